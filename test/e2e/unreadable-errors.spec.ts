import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, Step, Workflow, type JobContext, type StepContext } from '../../lib/index.js';
import { startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';

/** What a handler may throw whose reading throws: getters, an object String() refuses, a proxy. */
function unreadable(kind: string): unknown {
  const error = new Error('plain');
  const throwing = (what: string) => ({
    get: () => {
      throw new Error(`${what} getter threw`);
    },
  });
  switch (kind) {
    case 'message-getter':
      return Object.defineProperty(error, 'message', throwing('message'));
    case 'name-getter':
      return Object.defineProperty(error, 'name', throwing('name'));
    case 'stack-getter':
      return Object.defineProperty(error, 'stack', throwing('stack'));
    case 'null-prototype':
      return Object.assign(Object.create(null) as object, { big: 1n });
    case 'object-message':
      return Object.assign(error, { message: Object.create(null) as unknown });
    case 'proxy':
      return new Proxy(error, {
        get: () => {
          throw new Error('proxy get threw');
        },
        getPrototypeOf: () => {
          throw new Error('proxy getPrototypeOf threw');
        },
      });
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

const KINDS = ['message-getter', 'name-getter', 'stack-getter', 'null-prototype', 'object-message', 'proxy'];

@Injectable()
class Throwers {
  ledger: string[] = [];
  @Scheduled({ name: 'unreadable', maxRetries: 1, backoff: '10s' })
  run(ctx: JobContext<{ kind: string }>) {
    this.ledger.push(`${ctx.args.kind} ${ctx.attempt}`);
    throw unreadable(ctx.args.kind);
  }
}

@Workflow({ name: 'unreadable-step' })
class UnreadableStep {
  constructor(private readonly throwers: Throwers) {}
  @Step({ maxRetries: 0 })
  only(ctx: StepContext) {
    this.throwers.ledger.push(`step ${String(ctx.context.kind)} ${ctx.attempt}`);
    throw unreadable(String(ctx.context.kind));
  }
}

@Workflow({ name: 'unstorable-output' })
class UnstorableOutput {
  constructor(private readonly throwers: Throwers) {}
  @Step({ maxRetries: 0 })
  only(ctx: StepContext) {
    this.throwers.ledger.push(`output ${ctx.attempt}`);
    return { count: 1n };
  }
}

describe.each(TEST_STORES)('a thrown value whose reading throws, on the $kind store', ({ open }) => {
  let t: TestApp;
  let store: TestStore | null = null;
  let rescued: string[] = [];

  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    store = await open('unreadable');
    t = await startApp([Throwers, UnreadableStep, UnstorableOutput], { ...store.options, pollInterval: '1h' });
    rescued = [];
    t.scheduler.on('job:rescue', (e) => rescued.push(e.job.id));
  });
  afterEach(async () => {
    await t?.close();
    await store?.drop();
    store = null;
    vi.restoreAllMocks();
  });

  /** Well past rescueAfter: a job left running would have been rescued (and run again) by now. */
  const laterStill = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      await t.clock.advance('1m');
      await t.tester.drainQueue();
    }
  };

  it('fails the attempt (retried, then dead-lettered): never left running to be rescued', async () => {
    const ids = new Map<string, string>();
    for (const kind of KINDS) ids.set(kind, (await t.scheduler.enqueue('unreadable', { kind })).id);
    await t.tester.drainQueue();
    await t.clock.advance('10s');
    await t.tester.drainQueue();
    await laterStill();
    for (const [kind, id] of ids) {
      expect(
        t.get(Throwers).ledger.filter((e) => e.startsWith(`${kind} `)),
        kind,
      ).toEqual([`${kind} 1`, `${kind} 2`]);
      const dead = await t.scheduler.deadLetters.get(id);
      expect(dead, kind).toMatchObject({ state: 'dead', attempt: 2 });
      expect(
        dead.errors.map((e) => [e.attempt, e.kind]),
        kind,
      ).toEqual([
        [1, 'error'],
        [2, 'error'],
      ]);
    }
    const dead = async (kind: string) => (await t.scheduler.deadLetters.get(ids.get(kind)!)).errors[0]!;
    expect(await dead('message-getter')).toMatchObject({ name: 'Error', message: '(its message could not be read)' });
    expect(await dead('name-getter')).toMatchObject({ name: 'Error', message: 'plain' });
    expect(await dead('stack-getter')).toMatchObject({ name: 'Error', message: 'plain' });
    expect((await dead('stack-getter')).stack).toBeUndefined();
    expect(await dead('null-prototype')).toMatchObject({ name: 'object', message: '(object that cannot be converted to text)' });
    expect(await dead('object-message')).toMatchObject({ name: 'Error', message: '(object that cannot be converted to text)' });
    // Even `instanceof` throws on it: a plain error stands in for it.
    expect(await dead('proxy')).toMatchObject({ name: 'Error', message: '(a thrown value that cannot be inspected: even instanceof threw on it)' });
    expect(rescued).toEqual([]);
  });

  it('a workflow step that throws one fails once, its error stored: never rescued', async () => {
    const runs = new Map<string, string>();
    for (const kind of KINDS) runs.set(kind, await t.scheduler.workflows.start('unreadable-step', { kind }));
    await t.tester.drainQueue();
    await laterStill();
    for (const [kind, runId] of runs) {
      expect(
        t.get(Throwers).ledger.filter((e) => e.startsWith(`step ${kind} `)),
        kind,
      ).toEqual([`step ${kind} 1`]);
      const run = await t.scheduler.workflows.getState(runId);
      expect(run, kind).toMatchObject({ state: 'failed', steps: { only: { state: 'failed' } } });
    }
    expect((await t.scheduler.workflows.getState(runs.get('null-prototype')!)).steps.only!.error).toBe('(object that cannot be converted to text)');
    expect(rescued).toEqual([]);
  });

  it('a workflow step whose output is not JSON fails once with UnstorableResultError: never run again or rescued', async () => {
    const runId = await t.scheduler.workflows.start('unstorable-output', {});
    await t.tester.drainQueue();
    await laterStill();
    expect(t.get(Throwers).ledger).toEqual(['output 1']);
    const run = await t.scheduler.workflows.getState(runId);
    expect(run).toMatchObject({ state: 'failed', steps: { only: { state: 'failed' } } });
    expect(run.steps.only!.error).toMatch(/cannot be stored: it is not JSON/);
    expect(rescued).toEqual([]);
  });
});
