import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, Step, UnstorableResultError, Workflow, type Job, type JobContext } from '../../lib/index.js';
import { unstorableText } from '../../lib/common/storable-text.js';
import { flushPromises } from '../../lib/testing/index.js';
import { startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

const PAIR = '\u{1F600}';
/** 1,999 units, then a pair on units 1,999-2,000: a cut at 2,000 units would leave half of it. */
const STRADDLING = `${'x'.repeat(1_999)}${PAIR}${'y'.repeat(100)}`;

/** Handlers whose output once made a job stay running (PostgreSQL refused its acknowledgement), to be rescued and run again. */
@Injectable()
class Output {
  /** One entry per attempt started: the ledger of runs. */
  ledger: string[] = [];
  gates: (() => void)[] = [];

  @Scheduled({ name: 'poisoned-result', maxRetries: 2 })
  poisoned(ctx: JobContext) {
    this.ledger.push(`${ctx.name} ${ctx.attempt}`);
    return { text: 'a\u0000b\uD800c', ['key\uDC00']: [`${PAIR}\uDBFF`] };
  }

  @Scheduled({ name: 'poisoned-string', maxRetries: 2 })
  poisonedString(ctx: JobContext) {
    this.ledger.push(`${ctx.name} ${ctx.attempt}`);
    return 'nul\u0000 lone\uD83D';
  }

  @Scheduled({ name: 'straddling-error', maxRetries: 1, backoff: '10s' })
  straddling(ctx: JobContext) {
    this.ledger.push(`${ctx.name} ${ctx.attempt}`);
    throw new Error(STRADDLING);
  }

  @Scheduled({ name: 'huge-result', maxRetries: 1, backoff: '10s' })
  huge(ctx: JobContext) {
    this.ledger.push(`${ctx.name} ${ctx.attempt}`);
    return { blob: 'z'.repeat(5_000) };
  }

  @Scheduled({ name: 'batch', maxRetries: 2 })
  batch(ctx: JobContext<{ n: number }>) {
    this.ledger.push(`${ctx.name} ${ctx.args.n} ${ctx.attempt}`);
    return new Promise<unknown>((resolve) => this.gates.push(() => resolve(ctx.args.n === 3 ? `poisoned\u0000\uDFFF ${ctx.args.n}` : { n: ctx.args.n })));
  }
}

/** A workflow whose first step returns (and whose second throws) what PostgreSQL's jsonb refuses. */
@Workflow({ name: 'poisoned-run' })
class PoisonedRun {
  constructor(private readonly output: Output) {}
  @Step()
  first(ctx: JobContext) {
    this.output.ledger.push(`first ${ctx.attempt}`);
    return { note: 'a\u0000b\uD800' };
  }
  @Step({ after: 'first', maxRetries: 0, onError: 'continue' })
  second(ctx: JobContext) {
    this.output.ledger.push(`second ${ctx.attempt}`);
    throw new Error('bad\u0000\uDC00');
  }
}

describe.each(TEST_STORES)('what a handler returns or throws, on the $kind store', ({ open }) => {
  let t: TestApp;
  let store: TestStore | null = null;
  /** Jobs the lifeline rescued: a job left running by a refused acknowledgement shows up here, then runs again. */
  let rescued: string[] = [];

  /** The app on this store, with a 4,000-byte payload limit (so a result can be too large without megabytes of test data). */
  const start = async (): Promise<TestApp> => {
    store = await open('out', { maxPayloadBytes: 4_000 });
    t = await startApp([Output, PoisonedRun], { ...store.options, pollInterval: '1h' });
    rescued = [];
    t.scheduler.on('job:rescue', (e) => rescued.push(e.job.id));
    return t;
  };

  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    expect(rescued).toEqual([]);
    await t?.close();
    await store?.drop();
    store = null;
    vi.restoreAllMocks();
  });

  const ledger = (name: string): string[] => t.get(Output).ledger.filter((entry) => entry.startsWith(`${name} `));
  const stored = async (id: string): Promise<Job> => (await t.scheduler.history(await nameOf(id), { limit: 100 })).find((j) => j.id === id)!;
  const names = new Map<string, string>();
  const nameOf = async (id: string): Promise<string> => names.get(id)!;
  const enqueue = async (name: string, args = {}): Promise<string> => {
    const job = await t.scheduler.enqueue(name, args);
    names.set(job.id, name);
    return job.id;
  };
  /** Well past rescueAfter (60 s) and several lifeline sweeps: a job left running would be rescued and run again by now. */
  const laterStill = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      await t.clock.advance('1m');
      await t.tester.drainQueue();
    }
  };

  it('a result with U+0000 and lone surrogates completes exactly once, stored cleaned', async () => {
    await start();
    const object = await enqueue('poisoned-result');
    const text = await enqueue('poisoned-string');
    await t.tester.drainQueue();
    await laterStill();
    expect(ledger('poisoned-result')).toEqual(['poisoned-result 1']);
    expect(ledger('poisoned-string')).toEqual(['poisoned-string 1']);
    expect(await stored(object)).toMatchObject({ state: 'completed', attempt: 1, result: { text: 'a\uFFFDb\uFFFDc', 'key\uFFFD': [`${PAIR}\uFFFD`] } });
    expect(await stored(text)).toMatchObject({ state: 'completed', attempt: 1, result: 'nul\uFFFD lone\uFFFD' });
  });

  it('a workflow step whose output or error holds U+0000 and lone surrogates runs once; the run stores them cleaned', async () => {
    await start();
    const runId = await t.scheduler.workflows.start('poisoned-run', {});
    await t.tester.drainQueue();
    await laterStill();
    expect(ledger('first')).toEqual(['first 1']);
    expect(ledger('second')).toEqual(['second 1']);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run.context).toMatchObject({ note: 'a\uFFFDb\uFFFD' });
    expect(run.steps.first!.state).toBe('completed');
    expect(run.steps.second!.error).toBe('bad\uFFFD\uFFFD');
  });

  it('an error whose message has a surrogate pair across the 2,000-character cut is retried, then dead-lettered: never rescued', async () => {
    await start();
    const id = await enqueue('straddling-error');
    await t.tester.drainQueue();
    expect(ledger('straddling-error')).toEqual(['straddling-error 1']);
    const retrying = (await t.scheduler.deadLetters.list()).length;
    expect(retrying).toBe(0);
    await t.clock.advance('10s');
    await t.tester.drainQueue();
    await laterStill();
    expect(ledger('straddling-error')).toEqual(['straddling-error 1', 'straddling-error 2']);
    const dead = await t.scheduler.deadLetters.get(id);
    expect(dead).toMatchObject({ state: 'dead', attempt: 2 });
    expect(dead.errors.map((e) => e.attempt)).toEqual([1, 2]);
    for (const error of dead.errors) {
      expect(error.message).toBe(`${'x'.repeat(1_999)}${PAIR}… (100 more characters)`);
      expect(unstorableText(error.stack ?? '')).toBeNull();
    }
  });

  it('a result over maxPayloadBytes fails the attempt with UnstorableResultError, retried then dead-lettered: never left running', async () => {
    await start();
    const exceptions: unknown[] = [];
    t.scheduler.on('job:exception', (e) => exceptions.push(e.error));
    const id = await enqueue('huge-result');
    await t.tester.drainQueue();
    await t.clock.advance('10s');
    await t.tester.drainQueue();
    await laterStill();
    expect(ledger('huge-result')).toEqual(['huge-result 1', 'huge-result 2']);
    expect(exceptions).toHaveLength(2);
    for (const error of exceptions) expect(error).toBeInstanceOf(UnstorableResultError);
    const dead = await t.scheduler.deadLetters.get(id);
    expect(dead).toMatchObject({ state: 'dead', attempt: 2, result: null });
    expect(dead.errors.map((e) => e.name)).toEqual(['UnstorableResultError', 'UnstorableResultError']);
    expect(dead.errors[0]!.message).toMatch(/job result is 5\d{3} bytes of JSON; the limit is 4000/);
  });

  it('a completion batch with one poisoned job still completes every job of it, each once', async () => {
    await start();
    const output = t.get(Output);
    const jobs = await t.scheduler.enqueueMany(
      'batch',
      [1, 2, 3, 4, 5].map((n) => ({ n })),
    );
    for (const job of jobs) names.set(job.id, 'batch');
    // The queue runner starts all five; they end in one turn, so their completions are written together.
    await waitFor(
      async () => {
        await flushPromises();
        return output.gates.length === 5;
      },
      5_000,
      'the five handlers to start',
    );
    for (const open of output.gates.splice(0)) open();
    await t.tester.drainQueue();
    await laterStill();
    expect(ledger('batch').sort()).toEqual(['batch 1 1', 'batch 2 1', 'batch 3 1', 'batch 4 1', 'batch 5 1']);
    const results = await Promise.all(jobs.map((job) => stored(job.id)));
    expect(results.map((j) => j.state)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
    expect(results.map((j) => j.result)).toEqual([{ n: 1 }, { n: 2 }, 'poisoned\uFFFD\uFFFD 3', { n: 4 }, { n: 5 }]);
  });
});
