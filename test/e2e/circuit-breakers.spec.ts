import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Scheduled,
  SchedulerConfigError,
  SchedulerService,
  InvalidArgumentError,
  type CircuitEvent,
  type CircuitRejectEvent,
  type JobSkipEvent,
  type SchedulerModuleOptions,
} from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { bootstrapError, startApp, T0, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

@Injectable()
class Payments {
  failing = true;
  calls = 0;
  @Scheduled({ name: 'charge', circuitBreaker: 'payments', backoff: 0, maxRetries: 5 })
  charge() {
    this.calls++;
    if (this.failing) throw Object.assign(new Error('payments API: 503'), { status: 503 });
  }
  @Scheduled({ name: 'validate', circuitBreaker: 'payments', backoff: 0, maxRetries: 0 })
  validate() {
    throw Object.assign(new Error('card number is invalid'), { errorClass: 'terminal' });
  }
  @Scheduled({ name: 'lookup', circuitBreaker: 'payments', backoff: 0, maxRetries: 0 })
  lookup() {
    throw Object.assign(new Error('no such order'), { status: 404 });
  }
  @Scheduled({ name: 'unguarded', backoff: 0, maxRetries: 5 })
  unguarded() {
    if (this.failing) throw new Error('no breaker here');
  }
}

@Injectable()
class Reports {
  runs = 0;
  @Scheduled({ name: 'report', every: '1m', circuitBreaker: 'payments' })
  report() {
    this.runs++;
  }
}

const breakers: SchedulerModuleOptions['circuitBreakers'] = { payments: { failureThreshold: 2, successThreshold: 2, resetTimeout: '30s' } };

describe.each(TEST_STORES)('circuit breakers on the $kind store', ({ open }) => {
  let store: TestStore;
  const apps: TestApp[] = [];
  const start = async (options: SchedulerModuleOptions = {}, providers: unknown[] = [Payments]) => {
    const t = await startApp(providers as never[], { ...store.options, enabled: false, circuitBreakers: breakers, ...options });
    apps.push(t);
    return t;
  };
  const events = (t: TestApp) => {
    const seen: { event: string; payload: CircuitEvent | CircuitRejectEvent }[] = [];
    for (const event of ['circuit:open', 'circuit:halfOpen', 'circuit:close', 'circuit:reject'] as const) {
      t.scheduler.on(event, (payload) => seen.push({ event, payload }));
    }
    return seen;
  };

  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    store = await open('cb');
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await store.drop();
    vi.restoreAllMocks();
  });

  it('opens after failureThreshold failures in a row, and holds queued jobs without spending their attempts', async () => {
    const t = await start();
    const seen = events(t);
    const [a, b] = await t.scheduler.enqueueMany('charge', [{ n: 1 }, { n: 2 }]);
    const c = await t.scheduler.enqueue('charge', { n: 3 }, { delay: '5s' });
    await t.tester.drainQueue();
    // Two failures open it; their retries, due at once (backoff 0), are then held.
    expect(t.get(Payments).calls).toBe(2);
    const state = await t.scheduler.circuitBreakers.get('payments');
    expect(state).toEqual({ name: 'payments', state: 'open', failures: 2, openedAt: T0, nextProbeAt: new Date(T0.getTime() + 30_000) });
    expect(seen.map((e) => e.event)).toEqual(['circuit:open', 'circuit:reject', 'circuit:reject']);
    expect(seen[0]!.payload).toMatchObject({ name: 'payments', from: 'closed', to: 'open', error: { message: 'payments API: 503' } });
    expect(await t.scheduler.queueStats('default')).toMatchObject({ available: 0, scheduled: 3, running: 0 });
    // A job due later is held when it comes due.
    await t.clock.advance('5s');
    await t.tester.drainQueue();
    expect(t.get(Payments).calls).toBe(2);
    expect(seen.filter((e) => e.event === 'circuit:reject').map((e) => (e.payload as CircuitRejectEvent).job.id)).toEqual([a!.id, b!.id, c.id]);
    expect((seen.at(-1)!.payload as CircuitRejectEvent).until).toEqual(state.nextProbeAt);
    // Nothing runs before the half-open instant; then they run, their held claims not counted.
    await t.clock.advance('24s');
    expect(await t.tester.drainQueue()).toEqual([]);
    t.get(Payments).failing = false;
    await t.clock.advance('1s');
    expect((await t.tester.drainQueue()).map((r) => [r.job.id, r.outcome, r.job.attempt])).toEqual([
      [a!.id, 'completed', 2],
      [b!.id, 'completed', 2],
      [c.id, 'completed', 1],
    ]);
  });

  it('leaves jobs of other handlers alone while open', async () => {
    const t = await start();
    await t.scheduler.enqueueMany('charge', [{ n: 1 }, { n: 2 }]);
    await t.tester.drainQueue();
    await t.scheduler.enqueue('unguarded');
    t.get(Payments).failing = false;
    expect((await t.tester.drainQueue()).map((r) => [r.job.name, r.outcome])).toEqual([['unguarded', 'completed']]);
  });

  it('turns half-open after resetTimeout, and closes once successThreshold probes succeed', async () => {
    const t = await start();
    const seen = events(t);
    await t.scheduler.enqueueMany('charge', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    await t.tester.drainQueue();
    expect(t.get(Payments).calls).toBe(2);
    t.get(Payments).failing = false;
    await t.clock.advance('30s');
    const runs = await t.tester.drainQueue();
    expect(runs.filter((r) => r.outcome === 'completed')).toHaveLength(3);
    // The third job and both retries were held.
    expect(seen.map((e) => e.event)).toEqual(['circuit:open', 'circuit:reject', 'circuit:reject', 'circuit:reject', 'circuit:halfOpen', 'circuit:close']);
    expect(await t.scheduler.circuitBreakers.get('payments')).toMatchObject({ state: 'closed', failures: 0, openedAt: null, nextProbeAt: null });
  });

  it('opens again when a probe fails', async () => {
    const t = await start();
    await t.scheduler.enqueueMany('charge', [{ n: 1 }, { n: 2 }]);
    await t.tester.drainQueue();
    await t.clock.advance('30s');
    await t.tester.drainQueue();
    // One probe failed: open again for another 30 s; the other job waits.
    expect(t.get(Payments).calls).toBe(3);
    expect(await t.scheduler.circuitBreakers.get('payments')).toMatchObject({
      state: 'open',
      failures: 3,
      openedAt: new Date(T0.getTime() + 30_000),
      nextProbeAt: new Date(T0.getTime() + 60_000),
    });
  });

  it('reset closes it and the jobs it held are due at once', async () => {
    const t = await start();
    const seen = events(t);
    const [a, b] = await t.scheduler.enqueueMany('charge', [{ n: 1 }, { n: 2 }]);
    await t.tester.drainQueue();
    t.get(Payments).failing = false;
    expect(await t.scheduler.circuitBreakers.reset('payments')).toEqual({ name: 'payments', state: 'closed', failures: 0, openedAt: null, nextProbeAt: null });
    expect(seen.at(-1)).toMatchObject({ event: 'circuit:close', payload: { from: 'open', to: 'closed' } });
    expect(await t.scheduler.queueStats('default')).toMatchObject({ available: 2, scheduled: 0 });
    const runs = await t.tester.drainQueue();
    expect(runs.map((r) => [r.job.id, r.outcome, r.job.attempt])).toEqual([
      [a!.id, 'completed', 2],
      [b!.id, 'completed', 2],
    ]);
    await expect(t.scheduler.circuitBreakers.reset('nope')).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('does not count errors that say the fault is the job (terminal, tripsCircuit: false)', async () => {
    const t = await start();
    await t.scheduler.enqueueMany('validate', [{}, {}, {}]);
    // Classified terminal by the built-in rules (HTTP 404): the service answered, the request was wrong.
    await t.scheduler.enqueueMany('lookup', [{}, {}, {}]);
    await t.tester.drainQueue();
    expect(await t.scheduler.circuitBreakers.get('payments')).toMatchObject({ state: 'closed', failures: 0 });
  });

  it('registers breakers at runtime, before bootstrap (for decorated jobs) and after; get and all report them', async () => {
    @Injectable()
    class Registers implements OnModuleInit {
      constructor(private readonly scheduler: SchedulerService) {}
      async onModuleInit() {
        await this.scheduler.circuitBreakers.register('payments', { failureThreshold: 1 });
      }
    }
    const t = await start({ circuitBreakers: {} }, [Payments, Registers]);
    expect(await t.scheduler.circuitBreakers.register('mail', { resetTimeout: '1m' })).toEqual({
      name: 'mail',
      state: 'closed',
      failures: 0,
      openedAt: null,
      nextProbeAt: null,
    });
    await t.scheduler.enqueue('charge');
    await t.tester.drainQueue();
    expect((await t.scheduler.circuitBreakers.all()).map((b) => [b.name, b.state])).toEqual([
      ['mail', 'closed'],
      ['payments', 'open'],
    ]);
    await expect(t.scheduler.circuitBreakers.register('bad', { failureThreshold: 0 })).rejects.toThrow(InvalidArgumentError);
    await expect(t.scheduler.circuitBreakers.get('nope')).rejects.toThrow(/no circuit breaker is named "nope"/);
  });

  it("a runtime schedule may name a known breaker (its own wins over its handler's), never an unknown one", async () => {
    const t = await start({ circuitBreakers: { ...breakers, other: { failureThreshold: 1 } } });
    await expect(t.scheduler.insert({ name: 'nightly', handler: 'unguarded', every: '1h', circuitBreaker: 'nope' })).rejects.toThrow(
      /invalid argument "circuitBreaker": unknown circuit breaker "nope"/,
    );
    await t.scheduler.insert({ name: 'nightly', handler: 'charge', every: '1h', circuitBreaker: 'other' });
    await t.scheduler.runNow('nightly');
    await t.tester.drainQueue();
    // One failure of the schedule's job opens `other`, and leaves `payments` (the handler's) alone.
    expect((await t.scheduler.circuitBreakers.all()).map((b) => [b.name, b.state, b.failures])).toEqual([
      ['other', 'open', 1],
      ['payments', 'closed', 0],
    ]);
  });

  it('a job naming a breaker neither configured nor registered fails bootstrap', async () => {
    const error = await bootstrapError([Payments], { ...store.options, circuitBreakers: { other: {} } });
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect(error).toMatchObject({ option: 'circuitBreaker' });
    expect((error as Error).message).toMatch(/unknown circuit breaker "payments".*known: other/);
  });

  it('skips the ticks of a schedule while its breaker is open (job:skip, circuit_open)', async () => {
    const clock = new FakeClock(T0);
    const circuitBreakers = { payments: { failureThreshold: 2, resetTimeout: '5m' } };
    const t = await startApp([Payments, Reports], { ...store.options, circuitBreakers, pollInterval: '1h' }, clock);
    apps.push(t);
    const skips: JobSkipEvent[] = [];
    t.scheduler.on('job:skip', (e) => skips.push(e));
    await t.tester.leading();
    await t.scheduler.enqueueMany('charge', [{ n: 1 }, { n: 2 }]);
    await waitFor(async () => (await t.scheduler.circuitBreakers.get('payments')).state === 'open', 10_000, 'the breaker to open');
    await t.clock.advance('1m');
    // Timers the planner arms late (it loads as leadership comes, on PostgreSQL) fire at the next advance.
    const until = async (done: () => boolean) => waitFor(async () => (await t.clock.advance(0), done()), 10_000, 'the tick');
    await until(() => skips.length > 0);
    expect(skips[0]).toMatchObject({ name: 'report', schedule: 'report', reason: 'circuit_open', tick: new Date(T0.getTime() + 60_000) });
    expect(await t.scheduler.status('report')).toMatchObject({ queued: 0, running: 0, lastRun: null });
    // Reset: the held charges run (and succeed), and so does the next tick.
    t.get(Payments).failing = false;
    await t.scheduler.circuitBreakers.reset('payments');
    await t.clock.advance('1m');
    await waitFor(async () => (await t.tester.drainQueue(), t.get(Reports).runs === 1), 10_000, 'the next tick to run');
    expect(skips).toHaveLength(1);
  });
});
