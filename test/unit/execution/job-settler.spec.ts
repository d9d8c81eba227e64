import { describe, expect, it } from 'vitest';
import type { SettlerDeps } from '../../../lib/execution/execution.types.js';
import { JobSettler } from '../../../lib/execution/job.settler.js';
import type { Settled } from '../../../lib/execution/job.attempt.js';
import { DiscardJobError, RetryJobError } from '../../../lib/scheduler.errors.js';
import { SchedulerRegistry, type ResolvedJobOptions } from '../../../lib/scheduler.registry.js';
import type { Job } from '../../../lib/store/job.types.js';
import { MemoryStore } from '../../../lib/store/memory.store.js';
import { SchedulerEvents, type SchedulerEventMap } from '../../../lib/telemetry/scheduler.events.js';
import { FakeClock } from '../../../lib/testing/index.js';
import { resolveJobOptions } from '../../../lib/discovery/job-options.resolver.js';
import { testClassifier } from '../../support/classifier.js';
import { newJobInput } from '../../support/new-job.js';

const T0 = Date.UTC(2026, 0, 1);

/**
 * The settler on a memory store and a fake clock. `backoff`: the registered
 * handler's backoff (none registered: the default exponential backoff).
 */
function setup(backoff?: ResolvedJobOptions['backoff']) {
  const clock = new FakeClock(T0);
  const store = new MemoryStore();
  const registry = new SchedulerRegistry();
  if (backoff) {
    const options = resolveJobOptions(
      {},
      (option, detail) => {
        throw new Error(`${option}: ${detail}`);
      },
      null,
    );
    registry.addDefinition({
      name: 'work',
      source: 'Test.work',
      kind: 'method',
      run: async () => undefined,
      options: { ...options, backoff, explicit: { maxRetries: false, backoff: true } },
    });
  }
  const events = new SchedulerEvents();
  const seen: { event: keyof SchedulerEventMap; outcome: unknown; reason?: unknown }[] = [];
  for (const event of ['job:exception', 'job:discard', 'job:skip', 'job:cancel', 'job:stale'] as const) {
    events.on(event, (payload) => seen.push({ event, outcome: payload.outcome, reason: 'reason' in payload ? payload.reason : undefined }));
  }
  const retries: { queue: string; runAt: number }[] = [];
  const deps: SettlerDeps = {
    store,
    registry,
    classifier: testClassifier(clock),
    clock,
    events,
    onRetry: (queue, runAt) => retries.push({ queue, runAt: runAt.getTime() }),
  };
  const settler = new JobSettler(deps);
  /** Inserts a job and claims it: the attempt the settler acknowledges. */
  const claimed = async (maxAttempts = 3): Promise<Job<unknown>> => {
    await store.insert([newJobInput(new Date(clock.now()), { maxAttempts })]);
    const [job] = await store.claim({ queue: 'default', limit: 1, node: 'node-a', now: new Date(clock.now()) });
    return job!;
  };
  const completed = () => Promise.reject(new Error('completion is the executor’s path, not the settler’s'));
  const settle = (job: Job<unknown>, settled: Settled, startedAgo = 0) => settler.settle(job, clock.now() - startedAgo, settled, completed);
  const failed = (error: unknown): Settled => ({ kind: 'chain', result: { status: 'failed', error } });
  return { clock, store, settler, seen, retries, claimed, settle, failed };
}

describe('JobSettler', () => {
  it('a failure with attempts left is retried after the handler’s backoff, and its queue is woken then', async () => {
    const { clock, store, seen, retries, claimed, settle, failed } = setup((attempt) => attempt * 10_000);
    const job = await claimed();
    await clock.advance('1s');
    const outcome = await settle(job, failed(new Error('flaky')), 1_000);
    expect(outcome).toMatchObject({ outcome: 'retry', duration: 1_000 });
    const row = await store.get(job.id);
    expect(row).toMatchObject({ state: 'available', runAt: new Date(T0 + 11_000) });
    expect(row?.errors).toEqual([expect.objectContaining({ attempt: 1, kind: 'error', message: 'flaky' })]);
    expect(retries).toEqual([{ queue: 'default', runAt: T0 + 11_000 }]);
    expect(seen).toEqual([{ event: 'job:exception', outcome: 'retry', reason: undefined }]);
  });

  it('without a registered backoff the default exponential one applies (1 s ± 20 % after the first attempt)', async () => {
    const { store, claimed, settle, failed } = setup();
    const job = await claimed();
    await settle(job, failed(new Error('flaky')));
    const delay = (await store.get(job.id))!.runAt.getTime() - T0;
    expect(delay).toBeGreaterThanOrEqual(800);
    expect(delay).toBeLessThanOrEqual(1_200);
  });

  it('RetryJobError’s own delay wins over the backoff', async () => {
    const { store, claimed, settle, failed } = setup(() => 60_000);
    const job = await claimed();
    await settle(job, failed(new RetryJobError('later', { delay: '5s' })));
    expect((await store.get(job.id))!.runAt).toEqual(new Date(T0 + 5_000));
  });

  it('a backoff that throws or returns nonsense retries at once rather than losing the job', async () => {
    for (const backoff of [
      () => Number.NaN,
      () => -5,
      (): number => {
        throw new Error('bad backoff');
      },
    ]) {
      const { store, claimed, settle, failed } = setup(backoff);
      const job = await claimed();
      expect(await settle(job, failed(new Error('x')))).toMatchObject({ outcome: 'retry' });
      expect((await store.get(job.id))!.runAt).toEqual(new Date(T0));
    }
  });

  it('the last attempt’s failure is dead', async () => {
    const { store, seen, retries, claimed, settle, failed } = setup(() => 1_000);
    const job = await claimed(1);
    expect(await settle(job, failed(new Error('broken')))).toMatchObject({ outcome: 'dead' });
    expect(await store.get(job.id)).toMatchObject({ state: 'dead', finishedAt: new Date(T0) });
    expect(retries).toEqual([]);
    expect(seen).toEqual([{ event: 'job:exception', outcome: 'dead', reason: undefined }]);
  });

  it('DiscardJobError discards at once, attempts left or not', async () => {
    const { store, seen, claimed, settle, failed } = setup(() => 1_000);
    const job = await claimed(5);
    expect(await settle(job, failed(new DiscardJobError('bad input')))).toMatchObject({ outcome: 'discarded' });
    expect(await store.get(job.id)).toMatchObject({ state: 'discarded' });
    expect(seen).toEqual([{ event: 'job:discard', outcome: 'discarded', reason: 'bad input' }]);
  });

  it('a timeout is a failure of kind timeout: retried, then dead', async () => {
    const { store, claimed, settle } = setup(() => 1_000);
    const job = await claimed(1);
    expect(await settle(job, { kind: 'abort', reason: 'timeout' })).toMatchObject({ outcome: 'dead' });
    expect((await store.get(job.id))!.errors).toEqual([expect.objectContaining({ kind: 'timeout', name: 'JobAbortedError' })]);

    const second = await claimed(2);
    expect(await settle(second, { kind: 'abort', reason: 'timeout' })).toMatchObject({ outcome: 'retry' });
    expect(await store.get(second.id)).toMatchObject({ state: 'available' });
  });

  it('a halt by middleware discards the job and reports it skipped', async () => {
    const { store, seen, claimed, settle } = setup(() => 1_000);
    const job = await claimed();
    expect(await settle(job, { kind: 'chain', result: { status: 'halted', reason: 'maintenance' } })).toMatchObject({ outcome: 'halted' });
    expect(await store.get(job.id)).toMatchObject({ state: 'discarded' });
    expect((await store.get(job.id))!.errors).toEqual([expect.objectContaining({ kind: 'halt' })]);
    expect(seen.map((s) => [s.event, s.reason])).toEqual([
      ['job:skip', 'halted'],
      ['job:discard', 'maintenance'],
    ]);
  });

  it('shutdown releases the job for another node; cancel and a lost lease write nothing', async () => {
    const { store, seen, claimed, settle } = setup(() => 1_000);
    const released = await claimed();
    expect(await settle(released, { kind: 'abort', reason: 'shutdown' })).toMatchObject({ outcome: 'released' });
    expect(await store.get(released.id)).toMatchObject({ state: 'available' });
    expect((await store.get(released.id))!.errors).toEqual([expect.objectContaining({ kind: 'shutdown' })]);

    const cancelled = await claimed();
    expect(await settle(cancelled, { kind: 'abort', reason: 'cancel', detail: 'by the user' })).toMatchObject({ outcome: 'cancelled' });
    expect(seen).toEqual([{ event: 'job:cancel', outcome: 'cancelled', reason: 'by the user' }]);
    const lost = await claimed();
    expect(await settle(lost, { kind: 'abort', reason: 'lease-lost' })).toMatchObject({ outcome: 'lease-lost' });
    expect((await store.list({ states: ['running'] })).map((job) => job.id).sort()).toEqual([cancelled.id, lost.id].sort());
  });

  it('an acknowledgement of an attempt that no longer owns its job is reported stale, not thrown', async () => {
    const { store, seen, retries, claimed, settle, failed } = setup(() => 1_000);
    const job = await claimed();
    await store.unclaim([{ id: job.id, attempt: job.attempt }]);
    expect(await settle(job, failed(new Error('late')))).toMatchObject({ outcome: 'retry' });
    expect(await store.get(job.id)).toMatchObject({ state: 'available', errors: [] });
    expect(retries).toEqual([]);
    expect(seen).toEqual([{ event: 'job:stale', outcome: 'stale', reason: undefined }]);
  });
});
