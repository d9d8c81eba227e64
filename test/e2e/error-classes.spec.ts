import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ClassifiedError,
  NotLeaderError,
  Scheduled,
  ShuttingDownError,
  type Job,
  type JobContext,
  type JobMiddleware,
  type SchedulerModuleOptions,
} from '../../lib/index.js';
import { T0, startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

function httpError(status: number, headers: Record<string, string> = {}): Error {
  // axios's shape: the status and headers on error.response.
  return Object.assign(new Error(`Request failed with status code ${status}`), { response: { status, headers } });
}

@Injectable()
class Handlers {
  ledger: string[] = [];
  /** What a 429 answers as Retry-After (seconds or an HTTP date), set by each test. */
  retryAfter = '120';
  gates: (() => void)[] = [];

  private log(ctx: JobContext): void {
    this.ledger.push(`${ctx.name} ${ctx.attempt}`);
  }

  @Scheduled({ name: 'not-found' })
  notFound(ctx: JobContext) {
    this.log(ctx);
    throw httpError(404);
  }

  @Scheduled({ name: 'rate-limited' })
  rateLimited(ctx: JobContext) {
    this.log(ctx);
    if (ctx.attempt === 1) throw httpError(429, { 'retry-after': this.retryAfter });
    return 'done';
  }

  @Scheduled({ name: 'plain' })
  plain(ctx: JobContext) {
    this.log(ctx);
    throw new Error('boom');
  }

  @Scheduled({ name: 'busy' })
  busy(ctx: JobContext) {
    this.log(ctx);
    throw Object.assign(new Error('resource busy'), { code: 'EBUSY' });
  }

  @Scheduled({ name: 'busy-own', maxRetries: 1, backoff: '3s' })
  busyOwn(ctx: JobContext) {
    this.log(ctx);
    throw Object.assign(new Error('resource busy'), { code: 'EBUSY' });
  }

  @Scheduled({ name: 'bad-input' })
  badInput(ctx: JobContext) {
    this.log(ctx);
    throw new Error('bad input: amount');
  }

  @Scheduled({ name: 'declined' })
  declined(ctx: JobContext) {
    this.log(ctx);
    if (ctx.attempt === 1) throw new ClassifiedError('soft decline', 'transient', { retryAfter: '45s' });
  }

  @Scheduled({ name: 'flaky-known' })
  flakyKnown(ctx: JobContext) {
    this.log(ctx);
    throw new Error('known flake');
  }

  /** Ignores ctx.signal on its first attempt: returns only when the test opens its gate. */
  @Scheduled({ name: 'stubborn', timeout: '5s' })
  stubborn(ctx: JobContext) {
    this.log(ctx);
    if (ctx.attempt > 1) return 'second';
    return new Promise<void>((resolve) => this.gates.push(resolve));
  }

  @Scheduled({ name: 'untimed', timeout: false })
  untimed() {}

  @Scheduled({ name: 'noop' })
  noop() {}

  @Scheduled({ name: 'gate' })
  gate() {
    return new Promise<void>((resolve) => this.gates.push(resolve));
  }
}

@Injectable()
class IgnoreKnownFlakes implements JobMiddleware {
  onError(ctx: JobContext, error: unknown) {
    if (ctx.name === 'flaky-known' && error instanceof Error && error.message === 'known flake') return { ignore: 'a known flake' };
    return undefined;
  }
}

describe.each(TEST_STORES)('error classes, on the $kind store', ({ kind, open }) => {
  let t: TestApp | null = null;
  let store: TestStore | null = null;
  let warnings: string[] = [];

  const start = async (options: SchedulerModuleOptions = {}): Promise<TestApp> => {
    store = await open('errcls');
    t = await startApp([Handlers, IgnoreKnownFlakes], {
      ...store.options,
      pollInterval: '1h',
      // The tester drains by hand: no runner races it for a retry that just became due.
      enabled: false,
      defaults: { maxRetries: 2, backoff: '7s', timeout: '2m' },
      errors: { classify: (error) => (error instanceof Error && error.message.startsWith('bad input') ? 'terminal' : undefined) },
      middleware: [IgnoreKnownFlakes],
      ...options,
    });
    retries = [];
    t.scheduler.on('job:exception', (e) => retries.push({ id: e.job.id, outcome: e.outcome, at: e.nextRunAt?.getTime() ?? null }));
    return t;
  };
  const ledger = (name: string) => t!.get(Handlers).ledger.filter((entry) => entry.startsWith(`${name} `));
  /** Where each retry of a job was set to run (the store's job, read through `job:exception`). */
  let retries: { id: string; outcome: string; at: number | null }[] = [];
  /** A job that reached a final state, as history shows it. */
  const finished = async (name: string, id: string): Promise<Job | undefined> => (await t!.scheduler.history(name, { limit: 100 })).find((j) => j.id === id);
  const retryAt = (id: string): (number | null)[] => retries.filter((r) => r.id === id).map((r) => r.at);

  beforeEach(() => {
    warnings = [];
    vi.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await t?.close();
    t = null;
    await store?.drop();
    store = null;
    vi.restoreAllMocks();
  });

  it('a terminal error goes straight to the dead letters, its class stored and shown by history, status and dead letters', async () => {
    await start();
    const { id } = await t!.scheduler.enqueue('not-found');
    await t!.tester.drainQueue();
    await t!.clock.advance('1h');
    await t!.tester.drainQueue();
    expect(ledger('not-found')).toEqual(['not-found 1']);
    const dead = (await finished('not-found', id))!;
    expect(dead).toMatchObject({ state: 'dead', attempt: 1 });
    expect(dead.errors).toMatchObject([{ attempt: 1, kind: 'error', errorClass: 'terminal', message: 'Request failed with status code 404' }]);
    const [letter] = await t!.scheduler.deadLetters.list({ name: 'not-found' });
    expect(letter!.errors[0]!.errorClass).toBe('terminal');
    expect((await t!.scheduler.history('not-found'))[0]!.errors[0]!.errorClass).toBe('terminal');
    expect((await t!.scheduler.status('not-found')).lastRun?.errors[0]?.errorClass).toBe('terminal');
  });

  it.each([
    ['seconds', () => '120'],
    ['an HTTP date', () => new Date(T0.getTime() + 120_000).toUTCString()],
  ])('a 429 retries at its Retry-After (%s), read against the injectable clock', async (_form, value) => {
    await start();
    t!.get(Handlers).retryAfter = value();
    const { id } = await t!.scheduler.enqueue('rate-limited');
    await t!.tester.drainQueue();
    expect(retryAt(id)).toEqual([T0.getTime() + 120_000]);
    await t!.clock.advance('119s');
    await t!.tester.drainQueue();
    expect(ledger('rate-limited')).toEqual(['rate-limited 1']);
    await t!.clock.advance('1s');
    await t!.tester.drainQueue();
    expect(ledger('rate-limited')).toEqual(['rate-limited 1', 'rate-limited 2']);
    const done = (await finished('rate-limited', id))!;
    expect(done).toMatchObject({ state: 'completed', result: 'done', attempt: 2 });
    expect(done.errors).toMatchObject([{ attempt: 1, errorClass: 'retryable', message: 'Request failed with status code 429' }]);
  });

  it("the module's defaults apply to a job that sets nothing, and to an error nothing recognises", async () => {
    await start();
    const { id, maxAttempts, timeout } = await t!.scheduler.enqueue('plain');
    expect({ maxAttempts, timeout }).toEqual({ maxAttempts: 3, timeout: 120_000 });
    expect((await t!.scheduler.enqueue('untimed')).timeout).toBeNull();
    await t!.tester.drainQueue();
    expect(retryAt(id)).toEqual([T0.getTime() + 7_000]);
    for (let i = 0; i < 2; i++) {
      await t!.clock.advance('7s');
      await t!.tester.drainQueue();
    }
    expect(ledger('plain')).toEqual(['plain 1', 'plain 2', 'plain 3']);
    expect(retryAt(id)).toEqual([T0.getTime() + 7_000, T0.getTime() + 14_000, null]);
    const dead = (await finished('plain', id))!;
    expect(dead.state).toBe('dead');
    expect(dead.errors.map((e) => e.errorClass)).toEqual(['retryable', 'retryable', 'retryable']);
  });

  it("a recognised class's settings win over the module's defaults: transient retries 3 times, 500 ms apart", async () => {
    await start();
    const { id } = await t!.scheduler.enqueue('busy');
    await t!.tester.drainQueue();
    for (let i = 0; i < 5; i++) {
      await t!.clock.advance('500ms');
      await t!.tester.drainQueue();
    }
    expect(ledger('busy')).toEqual(['busy 1', 'busy 2', 'busy 3', 'busy 4']);
    expect(retryAt(id)).toEqual([T0.getTime() + 500, T0.getTime() + 1_000, T0.getTime() + 1_500, null]);
    expect((await finished('busy', id))!.errors.map((e) => e.errorClass)).toEqual(['transient', 'transient', 'transient', 'transient']);
  });

  it("a job's own maxRetries and backoff win over its error's class, and an enqueue's maxRetries too", async () => {
    await start();
    const { id } = await t!.scheduler.enqueue('busy-own');
    await t!.tester.drainQueue();
    expect(retryAt(id)).toEqual([T0.getTime() + 3_000]);
    await t!.clock.advance('3s');
    await t!.tester.drainQueue();
    expect(ledger('busy-own')).toEqual(['busy-own 1', 'busy-own 2']);
    expect((await finished('busy-own', id))!.state).toBe('dead');

    const once = await t!.scheduler.enqueue('busy', {}, { maxRetries: 0 });
    await t!.tester.drainQueue();
    expect(await finished('busy', once.id)).toMatchObject({ state: 'dead', attempt: 1 });
  });

  it("errors.classify and an error's own verdict (ClassifiedError with retryAfter) decide the class", async () => {
    await start();
    const bad = await t!.scheduler.enqueue('bad-input');
    const declined = await t!.scheduler.enqueue('declined');
    await t!.tester.drainQueue();
    expect(await finished('bad-input', bad.id)).toMatchObject({ state: 'dead', attempt: 1, errors: [{ errorClass: 'terminal' }] });
    expect(retryAt(declined.id)).toEqual([T0.getTime() + 45_000]);
    await t!.clock.advance('45s');
    await t!.tester.drainQueue();
    const done = (await finished('declined', declined.id))!;
    expect(done.state).toBe('completed');
    expect(done.errors[0]).toMatchObject({ errorClass: 'transient', name: 'ClassifiedError' });
  });

  it('a timed-out attempt is retried per its class (retryable), but not while its handler still runs here', async () => {
    await start();
    const { id } = await t!.scheduler.enqueue('stubborn');
    const draining = t!.tester.drainQueue();
    await waitFor(() => t!.get(Handlers).gates.length === 1, 5_000, 'the attempt to start');
    await t!.clock.advance('5s');
    await t!.clock.advance('1m');
    // Timed out a minute ago, past any backoff: still not acknowledged, nothing else started.
    expect(ledger('stubborn')).toEqual(['stubborn 1']);
    expect(retryAt(id)).toEqual([]);
    expect(warnings.some((w) => w.includes('ignores ctx.signal') && w.includes('attempt 2 waits'))).toBe(true);
    t!.get(Handlers).gates[0]!();
    await draining;
    const [at] = retryAt(id);
    // The class's backoff (1 s ± 10 %) from the moment the handler returned.
    expect(at! - t!.clock.now()).toBeGreaterThanOrEqual(900);
    expect(at! - t!.clock.now()).toBeLessThanOrEqual(1_100);
    await t!.clock.advance('2s');
    await t!.tester.drainQueue();
    const done = (await finished('stubborn', id))!;
    expect(done).toMatchObject({ state: 'completed', attempt: 2, result: 'second' });
    expect(done.errors).toMatchObject([{ attempt: 1, kind: 'timeout', errorClass: 'retryable' }]);
  });

  it('a middleware onError returning { ignore } completes the attempt and logs the error', async () => {
    await start();
    const { id } = await t!.scheduler.enqueue('flaky-known');
    await t!.tester.drainQueue();
    expect(ledger('flaky-known')).toEqual(['flaky-known 1']);
    expect(await finished('flaky-known', id)).toMatchObject({ state: 'completed', attempt: 1, result: null, errors: [] });
    expect(warnings.some((w) => w.includes('ignored by middleware (a known flake): known flake'))).toBe(true);
  });

  it('scheduler.errors answers as a failed attempt is treated, for the module or for one job', async () => {
    await start();
    const { errors } = t!.scheduler;
    expect(errors.classify(httpError(503))).toMatchObject({ errorClass: 'degraded', retryable: true, maxRetries: 2 });
    expect(errors.classify(new Error('x'))).toMatchObject({ errorClass: 'retryable', maxRetries: 2, backoff: { type: 'fixed', delay: 7_000 } });
    expect(errors.classify(new Error('bad input: x'))).toMatchObject({ errorClass: 'terminal', source: 'classify' });
    expect(errors.nextAction(httpError(429, { 'retry-after': '30' }), 1)).toEqual({ action: 'retry', delayMs: 30_000 });
    expect(errors.nextAction(httpError(401), 1)).toEqual({ action: 'dead' });
    expect(errors.nextAction(Object.assign(new Error('busy'), { code: 'EBUSY' }), 1, { job: 'busy-own' })).toEqual({ action: 'retry', delayMs: 3_000 });
    expect(errors.nextAction(Object.assign(new Error('busy'), { code: 'EBUSY' }), 2, { job: 'busy-own' })).toEqual({ action: 'dead' });
    expect(() => errors.nextAction(new Error('x'), 0)).toThrow('invalid argument "attempt"');
    expect(() => errors.classify(new Error('x'), { job: 'nope' })).toThrow('job "nope" not found');
  });

  it(
    kind === 'memory'
      ? 'an enqueue once close() began is refused with ShuttingDownError (the memory store would lose it)'
      : // A shared store keeps the job for the other nodes (docs/errors.md, ShuttingDownError).
        'an enqueue once close() began is still stored (other nodes run it)',
    async () => {
      await start({ enabled: true });
      await t!.scheduler.enqueue('gate');
      await waitFor(() => t!.get(Handlers).gates.length === 1, 5_000, 'the gate job to start');
      const app = t!;
      if (kind !== 'memory') await waitFor(() => app.scheduler.isLeader(), 5_000, 'leadership');
      t = null;
      const closing = app.close();
      if (kind === 'memory') {
        await waitFor(
          () =>
            app.scheduler.enqueue('noop').then(
              () => false,
              (error: unknown) => error instanceof ShuttingDownError,
            ),
          5_000,
          'enqueue to be refused',
        );
      } else {
        // Leadership is the first thing a closing node gives up.
        await waitFor(() => !app.scheduler.isLeader(), 5_000, 'close to begin');
        const stored = await app.scheduler.enqueue('noop');
        expect(stored).toMatchObject({ name: 'noop', duplicate: false });
        expect(stored.id).toMatch(/^\d+$/);
      }
      app.get(Handlers).gates[0]!();
      await closing;
    },
  );

  it('lifeline.checkNow runs a rescue pass on the leader; a follower gets NotLeaderError', async () => {
    await start({ peer: false, enabled: true });
    await expect(t!.scheduler.lifeline.checkNow()).rejects.toBeInstanceOf(NotLeaderError);
    await t!.close();
    t = null;
    await store?.drop();
    store = null;
    await start({ enabled: true });
    // A shared store's node takes the lease over the store first; the memory store's is the leader at once.
    const app = t!;
    await waitFor(() => app.scheduler.isLeader(), 5_000, 'leadership');
    await expect(t!.scheduler.lifeline.checkNow()).resolves.toEqual([]);
  });
});
