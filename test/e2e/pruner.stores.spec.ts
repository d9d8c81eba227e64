import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StoreOption } from '../../lib/scheduler.options.js';
import { newJobInput, type JobStore } from '../../lib/store/index.js';
import type { JobState } from '../../lib/store/job.types.js';
import type { WorkflowRunState } from '../../lib/store/workflow-run.types.js';
import { createStore } from '../../lib/store/store.factory.js';
import { startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';

/** Finished jobs: more than two of the pruner's batches (10,000), three rounds back to back. */
const EXPIRED = 25_000;
/**
 * Dead letters and runs: more than a batch, two rounds back to back. Fewer
 * than jobs, as they cost more to make: no store inserts runs in bulk (each
 * is a create and an update, on PostgreSQL two commits).
 */
const EXPIRED_OTHERS = 12_000;
/** Jobs one insert (and one claim) of the seeding takes: a batch insert, not 25,000 round trips. */
const CHUNK = 5_000;
/** The queue the seeded history lives on; no node runs it. */
const HISTORY = 'history';
/** The queue of the jobs not finished, apart from the history a claim takes from. */
const WAITING = 'waiting';
/** A queue nobody uses: draining it only waits for the loop's rounds under way. */
const NOTHING = 'nothing';
/** The node that claimed and finished the seeded jobs (not the app's). */
const SEEDER = 'seeder';

/** The store `option` opens, kept in `opened.store`, so the test fills it directly rather than through 75,000 handler runs. */
function kept(option: StoreOption) {
  const opened: { store: JobStore | null } = { store: null };
  const store: StoreOption = async (context) => {
    const bundle = await createStore(option, context);
    opened.store = bundle.store;
    return bundle;
  };
  return { store, opened };
}

/** `n` jobs of the history queue inserted, claimed and left `running` at `at`, in chunks; their refs. */
async function claimed(store: JobStore, n: number, at: Date, maxAttempts = 3): Promise<{ id: string; attempt: number }[]> {
  const refs: { id: string; attempt: number }[] = [];
  for (let done = 0; done < n; done += CHUNK) {
    const size = Math.min(CHUNK, n - done);
    await store.insert(Array.from({ length: size }, () => newJobInput(at, { queue: HISTORY, maxAttempts })));
    const jobs = await store.claim({ queue: HISTORY, limit: size, node: SEEDER, now: at });
    expect(jobs).toHaveLength(size);
    refs.push(...jobs.map((job) => ({ id: job.id, attempt: job.attempt })));
  }
  return refs;
}

/** Calls `call` on every item, `width` at a time: a pool of a few connections is not asked for thousands at once. */
async function inTurns<T, R>(items: readonly T[], width: number, call: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(call))));
  return out;
}

/** `n` jobs completed at `at` (acks sent together are written together: PostgreSQL takes 500 in one statement). */
async function completed(store: JobStore, n: number, at: Date): Promise<string[]> {
  const refs = await claimed(store, n, at);
  await inTurns(refs, CHUNK, (ref) => store.complete(ref, null, at));
  return refs.map((ref) => ref.id);
}

/** `n` dead letters that died at `at`, each failed on its last attempt. */
async function dead(store: JobStore, n: number, at: Date): Promise<string[]> {
  const refs = await claimed(store, n, at, 1);
  const error = { at, name: 'Error', message: 'spent', kind: 'error' };
  await inTurns(refs, 500, (ref) => store.fail(ref, 'dead', { ...error, attempt: ref.attempt }, at));
  return refs.map((ref) => ref.id);
}

/**
 * `n` dead letters that died at `at`, rescued on their last attempt by one
 * call (where a failure each costs PostgreSQL a commit each): every job
 * running then is rescued too, so call it before there is any other.
 */
async function deadTogether(store: JobStore, n: number, at: Date): Promise<string[]> {
  const refs = await claimed(store, n, at, 1);
  await store.rescue(new Date(at.getTime() + 1), at);
  return refs.map((ref) => ref.id);
}

/** `n` workflow runs created at `at`, and (unless `running`) finished then. */
async function runs(store: JobStore, n: number, at: Date, state: WorkflowRunState = 'completed'): Promise<string[]> {
  const input = { workflow: 'history', version: '1', state: 'running' as const, context: {}, steps: {}, trace: null, runAt: null };
  const ids = await inTurns(
    Array.from({ length: n }, () => input),
    500,
    async (run) => (await store.createRun(run, at)).id,
  );
  if (state !== 'running') await inTurns(ids, 500, (id) => store.updateRun(id, at, (run) => ({ ...run, state, finishedAt: at })));
  return ids;
}

describe.each(TEST_STORES)('pruner on the $kind store (fake clock)', ({ kind, open }) => {
  let t: TestApp | undefined;
  let target: TestStore;

  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    target = await open(`pruner_${kind}`);
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await target.drop();
    vi.restoreAllMocks();
  });

  /** Moves the clock and waits for the rounds it started, and those they left due at once, to end (on a shared store they are round trips). */
  const advance = async (by: string) => {
    await t!.clock.advance(by);
    await t!.tester.drainQueue(NOTHING);
  };

  it('expired finished jobs, dead letters and finished workflow runs, more than two batches of each, are all deleted within one interval; nothing else is', async () => {
    const { store: option, opened } = kept(target.options.store!);
    // No queue runs here (the seeded jobs stay as they are); the lifeline would rescue the running job after a day.
    t = await startApp([], {
      ...target.options,
      store: option,
      queues: false,
      pollInterval: '1h',
      lifeline: { rescueAfter: '1d' },
      retention: { completed: '1h', interval: '10m' },
      deadLetters: { maxAge: '1h', maxEntries: false },
    });
    await t.tester.leading();
    const store = opened.store!;
    const pruned: number[] = [];
    t.scheduler.on('deadLetter:prune', (e) => pruned.push(e.count));
    const now = () => new Date(t!.clock.now());

    // At T0: the history that expires an hour later, and jobs and a run that are not finished, however old.
    const expired = {
      jobs: await completed(store, EXPIRED, now()),
      dead: await deadTogether(store, EXPIRED_OTHERS, now()),
      runs: await runs(store, EXPIRED_OTHERS, now()),
    };
    const [available] = await store.insert([newJobInput(now(), { queue: WAITING })]);
    const [scheduled] = await store.insert([newJobInput(new Date(t.clock.now() + 86_400_000), { queue: WAITING })]);
    const [running] = await claimed(store, 1, now());
    const [runningRun] = await runs(store, 1, now(), 'running');
    // 50 minutes later: history that expires 50 minutes after the rest.
    await advance('50m');
    const fresh = { jobs: await completed(store, 3, now()), dead: await dead(store, 3, now()), runs: await runs(store, 3, now()) };

    const left = async () => ({
      completed: await store.count({ states: ['completed'] }),
      dead: await store.count({ states: ['dead'] }),
      runs: (await store.listRuns({ states: ['completed'], limit: Infinity })).length,
    });
    // Rounds at 10-minute steps until the hour: nothing had expired yet.
    await advance('10m');
    expect(await left()).toEqual({ completed: EXPIRED + 3, dead: EXPIRED_OTHERS + 3, runs: EXPIRED_OTHERS + 3 });
    expect(pruned).toEqual([]);

    // The first round after they expired fills its batches, and the next follow at once: the fake clock does not move meanwhile.
    await advance('10m');
    expect(await left()).toEqual({ completed: 3, dead: 3, runs: 3 });
    expect(pruned).toEqual([10_000, EXPIRED_OTHERS - 10_000]);
    for (const id of [...expired.jobs.slice(0, 10), ...expired.dead.slice(0, 10)]) expect(await store.get(id)).toBeNull();
    for (const id of expired.runs.slice(0, 10)) expect(await store.getRun(id)).toBeNull();

    // What had not expired, and what is not finished, is all there, as it was.
    const stateOf = async (id: string): Promise<JobState | null> => (await store.get(id))?.state ?? null;
    for (const id of fresh.jobs) expect(await stateOf(id)).toBe('completed');
    for (const id of fresh.dead) expect(await stateOf(id)).toBe('dead');
    for (const id of fresh.runs) expect((await store.getRun(id))?.state).toBe('completed');
    expect(await stateOf(available!.job.id)).toBe('available');
    expect(await stateOf(scheduled!.job.id)).toBe('available');
    expect(await stateOf(running!.id)).toBe('running');
    expect((await store.getRun(runningRun!))?.state).toBe('running');
  }, 180_000);
});
