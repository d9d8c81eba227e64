import type { JsonObject } from '../common/json.js';
import { DuplicateJobError, InvalidArgumentError, PayloadTooLargeError, StaleAttemptError, UnstorableResultError } from '../scheduler.errors.js';
import type { ConformanceTestApi } from './conformance-api.js';
import { FREE_HANDBACKS, RESCUE_BACKOFF_BASE, RESCUE_BACKOFF_MAX, rescueBackoff, type AttemptRef, type JobStore } from './job-store.js';
import type { Job, JobAttemptError, JobState, NewJob } from './job.types.js';
import type { NewWorkflowRun, StepRun, WorkflowRun, WorkflowRunState } from './workflow-run.types.js';

/**
 * A store's input for one plain job, due at `runAt`, with `overrides`.
 * @publicApi
 */
export function newJobInput(runAt: Date, overrides: Partial<NewJob> = {}): NewJob {
  return { name: 'work', queue: 'default', args: {}, priority: 5, maxAttempts: 3, timeout: null, runAt, ...overrides };
}

/**
 * Builds a fresh, empty store for one test, and what removes it afterwards.
 * @publicApi
 */
export type ConformanceStoreFactory = (options?: { maxPayloadBytes?: number }) => Promise<{ store: JobStore; cleanup(): Promise<void> }>;

/**
 * The behaviour every {@link JobStore} must show. Only the public interface is
 * used, and every time is passed explicitly, so any store (memory, PostgreSQL,
 * yours) can run it. Dates are compared in milliseconds. `test` is your test
 * runner's API (vitest or jest), so this module imports neither:
 *
 * ```ts
 * import { afterEach, beforeEach, describe, expect, it } from 'vitest';
 * import { runStoreConformance } from 'nestjs-scheduler/store';
 *
 * runStoreConformance({ describe, it, expect, beforeEach, afterEach }, 'my', async () => ({ store: new MyStore(), cleanup: async () => {} }));
 * ```
 * @publicApi
 */
export function runStoreConformance(test: ConformanceTestApi, name: string, makeStore: ConformanceStoreFactory): void {
  const { describe, it, expect, beforeEach, afterEach } = test;
  const BASE = new Date('2026-01-01T00:00:00Z');
  const at = (ms: number): Date => new Date(BASE.getTime() + ms);
  const ms = (date: Date | null | undefined): number | null => (date ? date.getTime() : null);
  const SEC = 1_000;

  describe(`${name} store conformance`, () => {
    let store: JobStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      await store.init();
    });

    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    const newJob = (overrides: Partial<NewJob> = {}): NewJob => newJobInput(BASE, overrides);

    const insert = async (overrides: Partial<NewJob> = {}): Promise<Job> => {
      const [result] = await store.insert([newJob(overrides)]);
      expect(result!.inserted).toBe(true);
      return result!.job;
    };

    const claim = (options: { queue?: string; limit?: number; node?: string; now?: Date; ids?: string[]; maxPriority?: number; start?: number } = {}) =>
      store.claim({
        queue: options.queue ?? 'default',
        limit: options.limit ?? 10,
        node: options.node ?? 'node-a',
        now: options.now ?? BASE,
        ...(options.ids ? { ids: options.ids } : {}),
        ...(options.maxPriority !== undefined ? { maxPriority: options.maxPriority } : {}),
        ...(options.start !== undefined ? { start: options.start } : {}),
      });

    /** Inserts a job and claims it; returns the running job. */
    const running = async (overrides: Partial<NewJob> = {}, now = BASE): Promise<Job> => {
      const job = await insert(overrides);
      const [claimed] = await claim({ queue: job.queue, ids: [job.id], now, node: overrides.pinnedNode ?? 'node-a' });
      expect(claimed?.id).toBe(job.id);
      return claimed!;
    };

    const ref = (job: Job): AttemptRef => ({ id: job.id, attempt: job.attempt });

    const attemptError = (attempt: number, overrides: Partial<JobAttemptError> = {}): JobAttemptError => ({
      attempt,
      at: at(attempt * SEC),
      name: 'Error',
      message: `failure ${attempt}`,
      kind: 'error',
      ...overrides,
    });

    const state = async (id: string): Promise<JobState | undefined> => (await store.get(id))?.state;

    const ids = (jobs: readonly Job[]): string[] => jobs.map((job) => job.id);

    describe('insert and get', () => {
      it('stores a job with defaults and reads it back', async () => {
        const job = await insert({ args: { to: 'a@example.com' } });
        expect(typeof job.id).toBe('string');
        expect(job).toMatchObject({
          name: 'work',
          schedule: null,
          queue: 'default',
          args: { to: 'a@example.com' },
          state: 'available',
          priority: 5,
          attempt: 0,
          maxAttempts: 3,
          timeout: null,
          misfired: false,
          startedAt: null,
          finishedAt: null,
          heartbeatAt: null,
          node: null,
          tickKey: null,
          uniqueKey: null,
          serialKey: null,
          pinnedNode: null,
          tags: [],
          meta: {},
          result: null,
          errors: [],
          trace: null,
        });
        expect(ms(job.runAt)).toBe(BASE.getTime());
        expect(ms(job.scheduledAt)).toBe(BASE.getTime());
        expect(job.insertedAt).toBeInstanceOf(Date);
        expect(await store.get(job.id)).toEqual(job);
      });

      it('keeps every given field', async () => {
        const trace = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 };
        const job = await insert({
          name: 'report',
          schedule: 'nightly',
          queue: 'reports',
          args: [1, 'two', { three: [3] }, null, true],
          priority: 2,
          maxAttempts: 7,
          timeout: 30_000,
          runAt: at(5 * SEC),
          scheduledAt: at(4 * SEC),
          misfired: true,
          tickKey: 'nightly@1',
          uniqueKey: 'u-1',
          serialKey: 's-1',
          pinnedNode: 'node-b',
          tags: ['x', 'y'],
          meta: { origin: { user: 42 } },
          trace,
        });
        const stored = await store.get(job.id);
        expect(stored).toMatchObject({
          name: 'report',
          schedule: 'nightly',
          queue: 'reports',
          args: [1, 'two', { three: [3] }, null, true],
          priority: 2,
          maxAttempts: 7,
          timeout: 30_000,
          misfired: true,
          tickKey: 'nightly@1',
          uniqueKey: 'u-1',
          serialKey: 's-1',
          pinnedNode: 'node-b',
          tags: ['x', 'y'],
          meta: { origin: { user: 42 } },
          trace,
        });
        expect(ms(stored!.runAt)).toBe(at(5 * SEC).getTime());
        expect(ms(stored!.scheduledAt)).toBe(at(4 * SEC).getTime());
      });

      it('gives each job a distinct id', async () => {
        const results = await store.insert([newJob(), newJob(), newJob()]);
        expect(new Set(results.map((r) => r.job.id)).size).toBe(3);
      });

      it('keeps each job\'s own fields in a batch, whether its jobs differ in one field or only in args', async () => {
        const meta = { team: 'core' };
        const variants: Partial<NewJob>[] = [
          {},
          { priority: 1 },
          { runAt: at(SEC) },
          { scheduledAt: at(-SEC) },
          { tags: ['t'] },
          { meta: { team: 'core' } },
          { meta: { team: 'other' } },
          { timeout: 5_000 },
          { pinnedNode: 'node-b' },
          { misfired: true },
        ];
        const inputs = variants.map((overrides, i) => newJob({ args: { i }, meta, ...overrides }));
        const results = await store.insert(inputs);
        for (const [i, result] of results.entries()) {
          const stored = await store.get(result.job.id);
          expect(stored).toEqual(result.job);
          expect(stored).toMatchObject({ args: { i }, priority: inputs[i]!.priority, tags: inputs[i]!.tags ?? [], meta: inputs[i]!.meta });
          expect(ms(stored!.runAt)).toBe(inputs[i]!.runAt.getTime());
          expect(ms(stored!.scheduledAt)).toBe((inputs[i]!.scheduledAt ?? inputs[i]!.runAt).getTime());
          expect(stored!.timeout).toBe(inputs[i]!.timeout);
          expect(stored!.pinnedNode).toBe(inputs[i]!.pinnedNode ?? null);
          expect(stored!.misfired).toBe(inputs[i]!.misfired ?? false);
        }
        // A batch that differs only in args and unique keys: keys collide with the batch and the table.
        const held = await insert({ uniqueKey: 'held' });
        const shared = await store.insert([
          newJob({ args: { n: 1 }, uniqueKey: 'a' }),
          newJob({ args: { n: 2 } }),
          newJob({ args: { n: 3 }, uniqueKey: 'a' }),
          newJob({ args: { n: 4 }, uniqueKey: 'held' }),
          newJob({ args: null }),
        ]);
        expect(shared.map((r) => r.inserted)).toEqual([true, true, false, false, true]);
        expect(shared[2]!.job.id).toBe(shared[0]!.job.id);
        expect(shared[3]!.job.id).toBe(held.id);
        expect((await store.get(shared[1]!.job.id))!.args).toEqual({ n: 2 });
        expect((await store.get(shared[4]!.job.id))!.args).toBeNull();
        const [ticks0, ticks1] = await store.insert([newJob({ tickKey: 'tick' }), newJob({ tickKey: 'tick' })]);
        expect([ticks0!.inserted, ticks1!.inserted, ticks1!.conflict]).toEqual([true, false, 'tick']);
      });

      it('returns null for an unknown id', async () => {
        const job = await insert();
        await store.delete([job.id]);
        expect(await store.get(job.id)).toBeNull();
      });

      it('keeps a "__proto__" key as plain data', async () => {
        const args = JSON.parse('{"__proto__": {"polluted": true}, "n": 1}') as JsonObject;
        const job = await insert({ args });
        const read = (await store.get(job.id))!;
        expect(Object.getOwnPropertyDescriptor(read.args, '__proto__')?.value).toEqual({ polluted: true });
        expect((read.args as JsonObject).n).toBe(1);
        expect(Object.getPrototypeOf(read.args)).toBe(Object.prototype);
        expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
      });

      it('isolates stored jobs from callers', async () => {
        const input = newJob({ args: { list: [1, 2] }, meta: { nested: { a: 1 } }, tags: ['t'] });
        const job = (await store.insert([input]))[0]!.job;
        (input.args as { list: number[] }).list.push(3);
        (input.meta!.nested as { a: number }).a = 2;
        input.tags!.push('u');
        (job.args as { list: number[] }).list.push(4);
        job.meta.extra = true;

        const read = (await store.get(job.id))!;
        expect(read.args).toEqual({ list: [1, 2] });
        expect(read.meta).toEqual({ nested: { a: 1 } });
        expect(read.tags).toEqual(['t']);

        (read.args as { list: number[] }).list.push(5);
        read.errors.push(attemptError(1));
        read.state = 'completed';
        read.runAt.setTime(0);
        const again = (await store.get(job.id))!;
        expect(again.args).toEqual({ list: [1, 2] });
        expect(again.errors).toEqual([]);
        expect(again.state).toBe('available');
        expect(ms(again.runAt)).toBe(BASE.getTime());

        const [claimed] = await claim();
        (claimed!.args as { list: number[] }).list.length = 0;
        const stored = (await store.get(job.id))!;
        for (const date of [claimed!.runAt, claimed!.scheduledAt, claimed!.insertedAt, claimed!.startedAt!, claimed!.heartbeatAt!]) date.setTime(0);
        const after = (await store.get(job.id))!;
        expect(after.args).toEqual({ list: [1, 2] });
        expect([after.runAt, after.scheduledAt, after.insertedAt, after.startedAt, after.heartbeatAt].map(ms)).toEqual(
          [stored.runAt, stored.scheduledAt, stored.insertedAt, stored.startedAt, stored.heartbeatAt].map(ms),
        );
        expect(ms(after.startedAt)).toBe(BASE.getTime());

        const listed = await store.list({});
        listed[0]!.tags.push('v');
        expect((await store.get(job.id))!.tags).toEqual(['t']);
      });
    });

    describe('claim', () => {
      it('moves due jobs to running and records the attempt', async () => {
        const job = await insert();
        const now = at(3 * SEC);
        const [claimed] = await claim({ now, node: 'node-x' });
        expect(claimed).toMatchObject({ id: job.id, state: 'running', attempt: 1, node: 'node-x' });
        expect(ms(claimed!.startedAt)).toBe(now.getTime());
        expect(ms(claimed!.heartbeatAt)).toBe(now.getTime());
        expect(claimed!.fencingToken).toBeGreaterThan(0);
        expect(await store.get(job.id)).toEqual(claimed);
      });

      it('returns the times of claimed jobs to the millisecond, for every millisecond and until 2105', async () => {
        // Every millisecond remainder 0..999, today and near the end of the
        // range where a float8 epoch still holds microseconds exactly, and
        // times that a float8 epoch times 1000, floored, gets 1 ms wrong.
        const starts = [BASE.getTime(), Date.UTC(2105, 11, 31, 23, 0, 0)];
        const hard = [67586912534, 539641022808, 547506256244, 1090811239508, 1094305382350];
        const times = [...starts.flatMap((start) => Array.from({ length: 1000 }, (_, k) => start + k * 1001)), ...hard].sort((a, b) => a - b);
        await store.insert(times.map((t) => newJob({ runAt: new Date(t), scheduledAt: new Date(t + 1) })));
        const claimed = await claim({ limit: times.length, now: new Date(Date.UTC(2106, 0, 1)) });
        expect(claimed.map((job) => [job.runAt.getTime(), job.scheduledAt.getTime()])).toEqual(times.map((t) => [t, t + 1]));
      });

      it('claims by priority, then runAt, then insertion order', async () => {
        const late = await insert({ priority: 0, runAt: at(2 * SEC) });
        const low = await insert({ priority: 9, runAt: at(0) });
        const firstA = await insert({ priority: 3, runAt: at(1 * SEC) });
        const early = await insert({ priority: 0, runAt: at(1 * SEC) });
        const firstB = await insert({ priority: 3, runAt: at(1 * SEC) });
        const firstC = await insert({ priority: 3, runAt: at(1 * SEC) });
        const claimed = await claim({ now: at(10 * SEC) });
        expect(ids(claimed)).toEqual(ids([early, late, firstA, firstB, firstC, low]));
      });

      it('claims in insertion order when priority and runAt are equal', async () => {
        const results = await store.insert(Array.from({ length: 5 }, () => newJob()));
        const first = await claim({ limit: 2 });
        const rest = await claim({ limit: 10 });
        expect([...ids(first), ...ids(rest)]).toEqual(results.map((r) => r.job.id));
      });

      it('honours the limit', async () => {
        await store.insert(Array.from({ length: 5 }, () => newJob()));
        expect(await claim({ limit: 2 })).toHaveLength(2);
        expect(await claim({ limit: 0 })).toHaveLength(0);
        expect(await claim({ limit: 2 })).toHaveLength(2);
        expect(await claim({ limit: 2 })).toHaveLength(1);
        expect(await claim({ limit: 2 })).toHaveLength(0);
      });

      it('claims only due jobs', async () => {
        const due = await insert({ runAt: at(0) });
        const future = await insert({ runAt: at(60 * SEC), priority: 0 });
        expect(ids(await claim({ now: at(59 * SEC) }))).toEqual([due.id]);
        expect(await claim({ now: at(59 * SEC) })).toEqual([]);
        expect(ids(await claim({ now: at(60 * SEC) }))).toEqual([future.id]);
      });

      it('judges due-ness by each claim\'s own time, even when an earlier claim was later', async () => {
        const first = await insert({ runAt: at(10 * SEC) });
        const second = await insert({ runAt: at(12 * SEC) });
        const pinned = await insert({ runAt: at(12 * SEC), pinnedNode: 'node-b' });
        expect(ids(await claim({ now: at(15 * SEC), limit: 1 }))).toEqual([first.id]);
        expect(await claim({ now: at(11 * SEC) })).toEqual([]);
        expect(await claim({ now: at(11 * SEC), node: 'node-b' })).toEqual([]);
        expect(ids(await claim({ now: at(25 * SEC), node: 'node-b' }))).toEqual([second.id, pinned.id]);
      });

      it('claims only from the requested queue', async () => {
        const mail = await insert({ queue: 'mail' });
        await insert({ queue: 'reports' });
        expect(ids(await claim({ queue: 'mail' }))).toEqual([mail.id]);
        expect(await claim({ queue: 'mail' })).toEqual([]);
        expect(await claim({ queue: 'nothing' })).toEqual([]);
      });

      it('claims only the given ids when asked', async () => {
        const a = await insert();
        const b = await insert();
        const future = await insert({ runAt: at(60 * SEC) });
        const otherQueue = await insert({ queue: 'other' });
        const claimed = await claim({ ids: [b.id, future.id, otherQueue.id, 'missing'] });
        expect(ids(claimed)).toEqual([b.id]);
        expect(await state(a.id)).toBe('available');
        expect(ids(await claim({ ids: [a.id, future.id], now: at(60 * SEC), limit: 1 }))).toEqual([a.id]);
        expect(ids(await claim({ now: at(60 * SEC) }))).toEqual([future.id]);
      });

      it('skips paused names and schedules, and claims them once resumed, in order', async () => {
        const paused = await insert({ name: 'paused', priority: 0 });
        const fromSchedule = await insert({ name: 'work', schedule: 'nightly', priority: 1 });
        const free = await insert({ name: 'work', priority: 9 });
        await store.setScheduleState('paused', { paused: true });
        await store.setScheduleState('nightly', { paused: true });

        expect(ids(await claim())).toEqual([free.id]);
        expect(await claim()).toEqual([]);
        expect(await state(paused.id)).toBe('available');

        const later = await insert({ name: 'work', priority: 5 });
        await store.setScheduleState('nightly', { paused: false });
        await store.setScheduleState('paused', { paused: false });
        expect(ids(await claim())).toEqual([paused.id, fromSchedule.id, later.id]);
      });

      it('skips paused jobs when claiming by id', async () => {
        const job = await insert({ name: 'paused' });
        await store.setScheduleState('paused', { paused: true });
        expect(await claim({ ids: [job.id] })).toEqual([]);
        await store.setScheduleState('paused', { paused: false });
        expect(ids(await claim({ ids: [job.id] }))).toEqual([job.id]);
      });

      it('resumes a schedule whose state is deleted with it', async () => {
        const job = await insert({ schedule: 'gone' });
        await store.setScheduleState('gone', { paused: true });
        expect(await claim()).toEqual([]);
        await store.deleteSchedule('gone');
        expect(ids(await claim())).toEqual([job.id]);
      });

      it('leaves jobs pinned to another node to that node', async () => {
        const pinned = await insert({ pinnedNode: 'node-b', priority: 0 });
        const free = await insert({ priority: 5 });
        expect(ids(await claim({ node: 'node-a' }))).toEqual([free.id]);
        expect(await claim({ node: 'node-a' })).toEqual([]);
        expect(await claim({ node: 'node-a', ids: [pinned.id] })).toEqual([]);
        const [claimed] = await claim({ node: 'node-b' });
        expect(claimed).toMatchObject({ id: pinned.id, node: 'node-b' });
      });

      it('merges a node\'s pinned jobs into claim order', async () => {
        const a = await insert({ priority: 1 });
        const pinned = await insert({ priority: 2, pinnedNode: 'node-b' });
        const c = await insert({ priority: 3 });
        expect(ids(await claim({ node: 'node-b' }))).toEqual([a.id, pinned.id, c.id]);
      });

      it('allows one waiting job per serial key and starts none while one runs', async () => {
        const first = await insert({ serialKey: 'account-1' });
        const [duplicate] = await store.insert([newJob({ serialKey: 'account-1' })]);
        expect(duplicate).toMatchObject({ inserted: false, conflict: 'serial' });
        expect(duplicate!.job.id).toBe(first.id);

        const other = await insert({ serialKey: 'account-2' });
        expect(ids(await claim())).toEqual([first.id, other.id]);
        const waiting = await insert({ serialKey: 'account-1' });
        const [again] = await store.insert([newJob({ serialKey: 'account-1' })]);
        expect(again).toMatchObject({ inserted: false, conflict: 'serial' });
        expect(again!.job.id).toBe(waiting.id);

        expect(await claim()).toEqual([]);
        expect(await claim({ ids: [waiting.id] })).toEqual([]);
        await store.complete({ id: first.id, attempt: 1 }, null, at(SEC));
        expect(ids(await claim({ now: at(SEC) }))).toEqual([waiting.id]);
      });

      it('starts the waiting serial job after the running one fails, is cancelled or deleted', async () => {
        for (const end of ['fail', 'cancel', 'delete'] as const) {
          const key = `serial-${end}`;
          const runningJob = await running({ serialKey: key });
          const waiting = await insert({ serialKey: key });
          expect(ids(await claim())).toEqual([]);
          if (end === 'fail') await store.fail(ref(runningJob), 'dead', attemptError(1), BASE);
          if (end === 'cancel') await store.cancel(runningJob.id, BASE, 'stop');
          if (end === 'delete') await store.delete([runningJob.id]);
          expect(ids(await claim())).toEqual([waiting.id]);
        }
      });

      it('starts only one of several available jobs sharing a serial key', async () => {
        const first = await running({ serialKey: 's' });
        const waiting = await insert({ serialKey: 's' });
        await store.retry(ref(first), BASE, attemptError(1));
        expect(ids(await claim())).toEqual([first.id]);
        expect(await claim()).toEqual([]);
        const [again] = await store.insert([newJob({ serialKey: 's' })]);
        expect(again).toMatchObject({ inserted: false, conflict: 'serial' });
        expect(again!.job.id).toBe(waiting.id);
      });

      it.each([1, 2, 3])('claims exactly what a full scan would, under random operations (seed %i)', async (start) => {
        let seed = start;
        const next = (): number => {
          seed = (seed + 0x6d2b79f5) | 0;
          let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
          t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
          return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
        };
        const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
        const queues = ['default', 'other'];
        const nodes = ['node-a', 'node-b'];
        const pausable = ['n1', 'n2', 's1'];
        const paused = new Set<string>();
        let now = 0;
        let claims = 0;

        for (let step = 0; step < 500; step++) {
          const r = next();
          if (r < 0.35) {
            await store.insert([
              newJob({
                name: pick(['n1', 'n2', 'n3']),
                schedule: pick([null, null, 's1']),
                queue: pick(queues),
                priority: Math.floor(next() * 3),
                runAt: at(now + Math.floor((next() - 0.3) * 20) * SEC),
                serialKey: pick([null, 'k1', 'k2', 'k3']),
                pinnedNode: next() < 0.15 ? pick(nodes) : null,
                maxAttempts: 5,
              }),
            ]);
          } else if (r < 0.42) {
            const key = pick(pausable);
            await store.setScheduleState(key, { paused: !paused.has(key) });
            if (paused.has(key)) paused.delete(key);
            else paused.add(key);
          } else if (r < 0.65) {
            const active = await store.list({ states: next() < 0.85 ? ['running'] : ['available'] });
            if (active.length === 0) continue;
            const job = pick(active);
            const action = job.state === 'available' ? 'cancel' : pick(['complete', 'retry', 'fail', 'release', 'cancel']);
            const when = at(now);
            if (action === 'complete') await store.complete(ref(job), null, when);
            if (action === 'retry') await store.retry(ref(job), at(now + Math.floor(next() * 10) * SEC), attemptError(job.attempt));
            if (action === 'fail') await store.fail(ref(job), 'dead', attemptError(job.attempt), when);
            if (action === 'release') await store.release(ref(job), when, attemptError(job.attempt));
            if (action === 'cancel') await store.cancel(job.id, when, 'random');
          } else if (r < 0.72) {
            // Mostly forward; sometimes a node whose clock is a little behind.
            now += Math.floor((next() - 0.2) * 6) * SEC;
          } else {
            const queue = pick(queues);
            const node = pick(nodes);
            const limit = 1 + Math.floor(next() * 3);
            const available = await store.list({ states: ['available'], queue });
            const runningKeys = new Set((await store.list({ states: ['running'] })).map((j) => j.serialKey));
            const expected: string[] = [];
            const due = available
              .filter((j) => ms(j.runAt)! <= at(now).getTime())
              .filter((j) => j.pinnedNode === null || j.pinnedNode === node)
              .filter((j) => !paused.has(j.name) && !(j.schedule !== null && paused.has(j.schedule)))
              .sort((a, b) => a.priority - b.priority || ms(a.runAt)! - ms(b.runAt)! || Number(BigInt(a.id) - BigInt(b.id)));
            for (const job of due) {
              if (expected.length >= limit) break;
              if (job.serialKey !== null && runningKeys.has(job.serialKey)) continue;
              expected.push(job.id);
              runningKeys.add(job.serialKey);
            }
            const claimed = await claim({ queue, node, limit, now: at(now) });
            expect(ids(claimed), `step ${step}`).toEqual(expected);
            claims += claimed.length;
          }
        }
        expect(claims).toBeGreaterThan(20);
      });

      it('never hands the same job to two concurrent claims', async () => {
        await store.insert(Array.from({ length: 7 }, () => newJob()));
        const [a, b] = await Promise.all([claim({ limit: 4, node: 'node-a' }), claim({ limit: 4, node: 'node-b' })]);
        const all = [...ids(a!), ...ids(b!)];
        expect(all).toHaveLength(7);
        expect(new Set(all).size).toBe(7);
      });

      it('gives every claim a strictly greater fencing token', async () => {
        const job = await insert({ maxAttempts: 5 });
        await insert();
        await insert();
        const [first] = await claim({ ids: [job.id] });
        await store.retry(ref(first!), BASE, attemptError(1));
        const batch = (await claim()).map((j) => j.fencingToken);
        expect(batch).toHaveLength(3);
        expect(new Set(batch).size).toBe(3);
        for (const token of batch) expect(token).toBeGreaterThan(first!.fencingToken);
        const reclaimed = (await store.get(job.id))!;
        expect(reclaimed.attempt).toBe(2);
        await store.retry(ref(reclaimed), BASE, attemptError(2));
        const [last] = await claim();
        expect(last!.fencingToken).toBeGreaterThan(Math.max(...batch));
      });
    });

    describe('insert with claimFor (an idle node runs what it enqueues)', () => {
      const claimFor = { node: 'node-a', now: at(10 * SEC) };

      it('inserts a due, keyless, unpinned job already claimed, as a claim would leave it', async () => {
        const [result] = await store.insert([newJob({ runAt: at(SEC) })], { claimFor });
        expect(result!.inserted).toBe(true);
        const job = result!.job;
        expect(job).toMatchObject({ state: 'running', attempt: 1, node: 'node-a' });
        expect(ms(job.startedAt)).toBe(claimFor.now.getTime());
        expect(ms(job.heartbeatAt)).toBe(claimFor.now.getTime());
        expect(job.fencingToken).toBeGreaterThan(0);
        expect(await store.get(job.id)).toMatchObject({ state: 'running', attempt: 1, node: 'node-a', fencingToken: job.fencingToken });
        // Nothing left for a claim; its acknowledgement is fenced as usual.
        expect(await claim({ now: at(10 * SEC) })).toEqual([]);
        await expect(store.complete({ id: job.id, attempt: 2 }, null, BASE)).rejects.toBeInstanceOf(StaleAttemptError);
        await store.complete(ref(job), null, BASE);
        expect(await state(job.id)).toBe('completed');
      });

      it('leaves delayed, pinned, serial and paused jobs available', async () => {
        await store.setScheduleState('paused-name', { paused: true });
        for (const job of [newJob({ runAt: at(60 * SEC) }), newJob({ pinnedNode: 'node-a' }), newJob({ serialKey: 's' }), newJob({ name: 'paused-name' })]) {
          const [result] = await store.insert([job], { claimFor });
          expect(result!.job.state).toBe('available');
          expect(await state(result!.job.id)).toBe('available');
        }
      });

      it('claims tick- and unique-keyed jobs, which keep their keys', async () => {
        const [tick] = await store.insert([newJob({ tickKey: 't-1' })], { claimFor });
        const [unique] = await store.insert([newJob({ uniqueKey: 'u-1' })], { claimFor });
        expect([tick!.job.state, unique!.job.state]).toEqual(['running', 'running']);
        const [again] = await store.insert([newJob({ tickKey: 't-1' }), newJob({ uniqueKey: 'u-1' })], { claimFor });
        expect(again).toMatchObject({ inserted: false, conflict: 'tick', job: { id: tick!.job.id } });
        const [twice] = await store.insert([newJob({ uniqueKey: 'u-1' })], { claimFor });
        expect(twice).toMatchObject({ inserted: false, conflict: 'unique', job: { id: unique!.job.id, state: 'running' } });
      });
    });

    describe('prefetch support: maxPriority and unclaim', () => {
      it('claims only jobs at or above an urgency, leaving the rest claimable', async () => {
        const low = await insert({ priority: 5 });
        const urgent = await insert({ priority: 0 });
        const mid = await insert({ priority: 2 });
        expect((await claim({ maxPriority: 1 })).map((j) => j.id)).toEqual([urgent.id]);
        expect((await claim({ maxPriority: 1 })).map((j) => j.id)).toEqual([]);
        expect((await claim()).map((j) => j.id)).toEqual([mid.id, low.id]);
      });

      it('unclaim hands never-started jobs back as if unclaimed; stale refs are ignored', async () => {
        const job = await insert();
        const [claimed] = await claim();
        expect(claimed!.attempt).toBe(1);
        expect(await store.unclaim([ref(claimed!), { id: claimed!.id, attempt: 7 }, { id: '999999', attempt: 1 }])).toBe(1);
        const back = (await store.get(job.id))!;
        expect([back.state, back.attempt, back.node, back.startedAt]).toEqual(['available', 0, null, null]);
        await expect(store.complete(ref(claimed!), null, BASE)).rejects.toBeInstanceOf(StaleAttemptError);
        const [again] = await claim();
        expect(again!.attempt).toBe(1);
        expect(again!.fencingToken).toBeGreaterThan(claimed!.fencingToken);
        await store.complete(ref(again!), null, BASE);
        expect(await store.unclaim([ref(again!)])).toBe(0);
      });
    });

    describe('keys', () => {
      it('keeps a tick key unique for as long as the job exists', async () => {
        const job = await running({ tickKey: 'nightly@2026-01-01' });
        const [dup] = await store.insert([newJob({ tickKey: 'nightly@2026-01-01' })]);
        expect(dup).toMatchObject({ inserted: false, conflict: 'tick' });
        expect(dup!.job.id).toBe(job.id);

        await store.complete(ref(job), null, BASE);
        const [afterComplete] = await store.insert([newJob({ tickKey: 'nightly@2026-01-01' })]);
        expect(afterComplete).toMatchObject({ inserted: false, conflict: 'tick' });
        expect(afterComplete!.job.id).toBe(job.id);

        expect(await store.delete([job.id])).toBe(1);
        const [afterDelete] = await store.insert([newJob({ tickKey: 'nightly@2026-01-01' })]);
        expect(afterDelete!.inserted).toBe(true);
      });

      it('keeps a unique key unique among available and running jobs only', async () => {
        const job = await insert({ uniqueKey: 'u' });
        const [whileAvailable] = await store.insert([newJob({ uniqueKey: 'u' })]);
        expect(whileAvailable).toMatchObject({ inserted: false, conflict: 'unique' });
        expect(whileAvailable!.job.id).toBe(job.id);

        const [claimed] = await claim();
        const [whileRunning] = await store.insert([newJob({ uniqueKey: 'u' })]);
        expect(whileRunning).toMatchObject({ inserted: false, conflict: 'unique' });

        await store.retry(ref(claimed!), BASE, attemptError(1));
        const [whileRetrying] = await store.insert([newJob({ uniqueKey: 'u' })]);
        expect(whileRetrying).toMatchObject({ inserted: false, conflict: 'unique' });

        const [again] = await claim();
        await store.complete(ref(again!), null, BASE);
        const next = await insert({ uniqueKey: 'u' });
        expect(next.id).not.toBe(job.id);
      });

      it('frees a unique key when the job fails, is cancelled or deleted', async () => {
        const dead = await running({ uniqueKey: 'dead' });
        await store.fail(ref(dead), 'dead', attemptError(1), BASE);
        await insert({ uniqueKey: 'dead' });

        const discarded = await running({ uniqueKey: 'discarded' });
        await store.fail(ref(discarded), 'discarded', attemptError(1), BASE);
        await insert({ uniqueKey: 'discarded' });

        const cancelled = await insert({ uniqueKey: 'cancelled' });
        await store.cancel(cancelled.id, BASE, 'no');
        await insert({ uniqueKey: 'cancelled' });

        const deleted = await insert({ uniqueKey: 'deleted' });
        await store.delete([deleted.id]);
        await insert({ uniqueKey: 'deleted' });
      });

      it('checks keys against jobs earlier in the same batch', async () => {
        const results = await store.insert([
          newJob({ tickKey: 't' }),
          newJob({ tickKey: 't' }),
          newJob({ uniqueKey: 'u' }),
          newJob({ uniqueKey: 'u' }),
          newJob({ serialKey: 's' }),
          newJob({ serialKey: 's' }),
        ]);
        expect(results.map((r) => r.inserted)).toEqual([true, false, true, false, true, false]);
        expect(results.map((r) => r.conflict)).toEqual([undefined, 'tick', undefined, 'unique', undefined, 'serial']);
        expect(results[1]!.job.id).toBe(results[0]!.job.id);
        expect(results[3]!.job.id).toBe(results[2]!.job.id);
        expect(results[5]!.job.id).toBe(results[4]!.job.id);
        expect(await store.count({})).toBe(3);
      });
    });

    describe('acknowledgements', () => {
      type Ack = 'complete' | 'retry' | 'fail' | 'release';
      const ACKS: Ack[] = ['complete', 'retry', 'fail', 'release'];
      const acknowledge = (kind: Ack, target: AttemptRef): Promise<void> => {
        switch (kind) {
          case 'complete':
            return store.complete(target, { ok: true }, at(SEC));
          case 'retry':
            return store.retry(target, at(SEC), attemptError(target.attempt));
          case 'fail':
            return store.fail(target, 'dead', attemptError(target.attempt), at(SEC));
          case 'release':
            return store.release(target, at(SEC), attemptError(target.attempt, { kind: 'shutdown' }));
        }
      };

      const expectStale = async (kind: Ack, target: AttemptRef): Promise<void> => {
        const before = await store.get(target.id);
        const rejection = acknowledge(kind, target);
        await expect(rejection).rejects.toBeInstanceOf(StaleAttemptError);
        await expect(rejection).rejects.toMatchObject({ jobId: target.id, attempt: target.attempt });
        expect(await store.get(target.id)).toEqual(before);
      };

      it.each(ACKS)('%s with the wrong attempt is stale and changes nothing', async (kind) => {
        const job = await running();
        await expectStale(kind, { id: job.id, attempt: job.attempt + 1 });
        await expectStale(kind, { id: job.id, attempt: job.attempt - 1 });
      });

      it.each(ACKS)('%s of a job that is not running is stale', async (kind) => {
        const available = await insert();
        await expectStale(kind, { id: available.id, attempt: 0 });
        const completed = await running();
        await store.complete(ref(completed), null, BASE);
        await expectStale(kind, ref(completed));
        const deleted = await running();
        await store.delete([deleted.id]);
        await expect(acknowledge(kind, ref(deleted))).rejects.toBeInstanceOf(StaleAttemptError);
      });

      it.each(ACKS)('%s after a cancel is stale', async (kind) => {
        const job = await running();
        await store.cancel(job.id, BASE, 'user');
        await expectStale(kind, ref(job));
      });

      it.each(ACKS)('%s after a rescue is stale, also once the job is claimed again', async (kind) => {
        const job = await running({}, BASE);
        const rescued = await store.rescue(at(60 * SEC), at(60 * SEC));
        expect(ids(rescued)).toEqual([job.id]);
        await expectStale(kind, ref(job));
        const [again] = await claim({ now: at(60 * SEC) });
        expect(again!.attempt).toBe(job.attempt + 1);
        await expectStale(kind, ref(job));
        expect(await state(job.id)).toBe('running');
      });

      it('complete stores the result and the finish time', async () => {
        const job = await running();
        const result = { sent: 3, ids: ['a', 'b'] };
        await store.complete(ref(job), result, at(5 * SEC));
        result.ids.push('c');
        const done = (await store.get(job.id))!;
        expect(done).toMatchObject({ state: 'completed', result: { sent: 3, ids: ['a', 'b'] }, attempt: 1 });
        expect(ms(done.finishedAt)).toBe(at(5 * SEC).getTime());
      });

      it('complete with forget deletes the job, fenced like every ack, and frees its unique key', async () => {
        const job = await running({ uniqueKey: 'u-1' });
        await expect(store.complete({ id: job.id, attempt: job.attempt + 1 }, null, BASE, { forget: true })).rejects.toBeInstanceOf(StaleAttemptError);
        expect(await state(job.id)).toBe('running');
        await store.complete(ref(job), { ignored: true }, BASE, { forget: true });
        expect(await store.get(job.id)).toBeNull();
        await expect(store.complete(ref(job), null, BASE, { forget: true })).rejects.toBeInstanceOf(StaleAttemptError);
        const [again] = await store.insert([newJob({ uniqueKey: 'u-1' })]);
        expect(again!.inserted).toBe(true);
      });

      it('completions kept and forgotten in the same instant are each written as asked', async () => {
        const kept = await running();
        const gone = await running();
        await Promise.all([store.complete(ref(kept), 1, BASE), store.complete(ref(gone), 2, BASE, { forget: true })]);
        expect(await state(kept.id)).toBe('completed');
        expect(await store.get(gone.id)).toBeNull();
      });

      it('complete accepts a null result', async () => {
        const job = await running();
        await store.complete(ref(job), null, BASE);
        expect((await store.get(job.id))!.result).toBeNull();
      });

      it('retry makes the job available again at runAt and records the error', async () => {
        const job = await running();
        const error = attemptError(1, { stack: 'Error: failure 1\n    at x', name: 'TypeError' });
        await store.retry(ref(job), at(30 * SEC), error);
        const retried = (await store.get(job.id))!;
        expect(retried).toMatchObject({ state: 'available', attempt: 1, finishedAt: null });
        expect(ms(retried.runAt)).toBe(at(30 * SEC).getTime());
        expect(retried.errors).toHaveLength(1);
        expect(retried.errors[0]).toMatchObject({ attempt: 1, name: 'TypeError', message: 'failure 1', kind: 'error', stack: error.stack });
        expect(ms(retried.errors[0]!.at)).toBe(error.at.getTime());

        expect(await claim({ now: at(29 * SEC) })).toEqual([]);
        const [again] = await claim({ now: at(30 * SEC) });
        expect(again).toMatchObject({ id: job.id, attempt: 2 });
      });

      it.each(['dead', 'discarded'] as const)('fail moves the job to %s', async (final) => {
        const job = await running();
        await store.fail(ref(job), final, attemptError(1), at(2 * SEC));
        const failed = (await store.get(job.id))!;
        expect(failed.state).toBe(final);
        expect(ms(failed.finishedAt)).toBe(at(2 * SEC).getTime());
        expect(failed.errors.map((e) => e.message)).toEqual(['failure 1']);
        expect(await claim({ now: at(60 * SEC) })).toEqual([]);
      });

      it('release hands the job back without using up its attempts', async () => {
        const job = await running({ maxAttempts: 1 });
        await store.release(ref(job), at(SEC), attemptError(1, { kind: 'shutdown' }));
        const released = (await store.get(job.id))!;
        expect(released).toMatchObject({ state: 'available', attempt: 1, maxAttempts: 2 });
        expect(ms(released.runAt)).toBe(at(SEC).getTime());
        expect(released.errors.map((e) => e.kind)).toEqual(['shutdown']);
        const [again] = await claim({ now: at(SEC) });
        expect(again).toMatchObject({ attempt: 2, maxAttempts: 2 });
      });

      it(`release grants the extra attempt only ${FREE_HANDBACKS} times; then an interrupted last attempt is dead`, async () => {
        const job = await running({ maxAttempts: 1 });
        let current: Job = job;
        for (let handBack = 1; handBack <= FREE_HANDBACKS; handBack++) {
          await store.release(ref(current), BASE, attemptError(current.attempt, { kind: 'shutdown' }));
          expect(await store.get(job.id)).toMatchObject({ state: 'available', maxAttempts: 1 + handBack });
          [current] = (await claim()) as [Job];
        }
        await store.release(ref(current), at(SEC), attemptError(current.attempt, { kind: 'shutdown' }));
        const dead = (await store.get(job.id))!;
        expect(dead).toMatchObject({ state: 'dead', attempt: 1 + FREE_HANDBACKS, maxAttempts: 1 + FREE_HANDBACKS });
        expect(ms(dead.finishedAt)).toBe(at(SEC).getTime());
        expect(dead.errors.map((e) => e.kind)).toEqual(Array.from({ length: FREE_HANDBACKS + 1 }, () => 'shutdown'));
        expect(await claim()).toEqual([]);
      });

      it('release keeps maxAttempts when attempts remain', async () => {
        const job = await running({ maxAttempts: 3 });
        await store.release(ref(job), BASE, attemptError(1, { kind: 'shutdown' }));
        expect((await store.get(job.id))!.maxAttempts).toBe(3);
      });

      it('keeps only the last 20 errors', async () => {
        const job = await insert({ maxAttempts: 100 });
        for (let attempt = 1; attempt <= 25; attempt++) {
          const [claimed] = await claim();
          expect(claimed!.attempt).toBe(attempt);
          await store.retry(ref(claimed!), BASE, attemptError(attempt));
        }
        const errors = (await store.get(job.id))!.errors;
        expect(errors.map((e) => e.attempt)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6));
      });
    });

    describe('refused input and cleaned output (the same rules on every store)', () => {
      const PAIR = '\u{1F600}';
      const cyclic = (): JsonObject => {
        const meta: Record<string, unknown> = { a: 1 };
        meta.self = meta;
        return meta as JsonObject;
      };

      it.each<[string, () => Partial<NewJob>, string]>([
        ['a name over 200 characters', () => ({ name: 'n'.repeat(201) }), 'name'],
        ['a queue name over 200 characters', () => ({ queue: 'q'.repeat(201) }), 'queue'],
        ['a unique key with a lone surrogate', () => ({ uniqueKey: 'key-\uD800' }), 'uniqueKey'],
        ['a unique key over 1,000 bytes (past the btree entry limit at 2,704)', () => ({ uniqueKey: 'k'.repeat(3_000) }), 'uniqueKey'],
        ['args with U+0000', () => ({ args: { s: 'a\u0000b' } }), 'args'],
        ['args with a lone surrogate in a string', () => ({ args: { s: 'a\uDC00' } }), 'args'],
        ['args with a lone surrogate in a key', () => ({ args: { ['k\uD800']: 1 } }), 'args'],
        ['args with a BigInt', () => ({ args: { n: 2n } as never }), 'args'],
        ['meta with U+0000', () => ({ meta: { s: '\u0000' } }), 'meta'],
        ['cyclic meta', () => ({ meta: cyclic() }), 'meta'],
        ['a runAt past year 9999', () => ({ runAt: new Date('+010000-01-01T00:00:00.000Z') }), 'runAt'],
        ['a runAt before year 1', () => ({ runAt: new Date('-000001-01-01T00:00:00.000Z') }), 'runAt'],
        ['an invalid runAt', () => ({ runAt: new Date(Number.NaN) }), 'runAt'],
        ['a tag over 200 characters', () => ({ tags: ['t'.repeat(201)] }), 'tags'],
        ['more than 50 tags', () => ({ tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }), 'tags'],
        ['a priority outside 0-9', () => ({ priority: 10 }), 'priority'],
      ])('refuses %s with InvalidArgumentError naming the field, storing nothing of the call', async (_, bad, argument) => {
        const rejection = store.insert([newJob({ uniqueKey: 'fine' }), newJob(bad())]);
        await expect(rejection).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(rejection).rejects.toMatchObject({ argument });
        expect(await store.count({})).toBe(0);
        // The good job alone goes in: nothing of the refused call holds its key.
        expect((await store.insert([newJob({ uniqueKey: 'fine' })]))[0]!.inserted).toBe(true);
      });

      it('keeps unique keys apart that differ only in characters around the limits', async () => {
        // Refused, not replaced: two lone surrogates would both become U+FFFD and collide.
        await expect(store.insert([newJob({ uniqueKey: 'k\uD800' })])).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(store.insert([newJob({ uniqueKey: 'k\uD801' })])).rejects.toBeInstanceOf(InvalidArgumentError);
        const keys = ['k\uFFFD', `k${PAIR}`, 'k'.repeat(1_000), '漢'.repeat(333)];
        const results = await store.insert(keys.map((uniqueKey) => newJob({ uniqueKey })));
        expect(results.map((r) => r.inserted)).toEqual([true, true, true, true]);
        expect((await Promise.all(results.map((r) => store.get(r.job.id)))).map((j) => j!.uniqueKey)).toEqual(keys);
      });

      it('accepts the years 1 and 9999, and names and tags at their limits', async () => {
        const first = await insert({ runAt: new Date('0001-01-01T00:00:00.000Z'), name: 'n'.repeat(200), tags: ['t'.repeat(200)] });
        const last = await insert({ runAt: new Date('9999-12-31T23:59:59.999Z') });
        expect((await store.get(first.id))!.runAt.toISOString()).toBe('0001-01-01T00:00:00.000Z');
        expect((await store.get(last.id))!.runAt.toISOString()).toBe('9999-12-31T23:59:59.999Z');
      });

      it('refuses args or meta over maxPayloadBytes with PayloadTooLargeError naming the field; a limit may be raised past 1 MiB', async () => {
        const small = await makeStore({ maxPayloadBytes: 100 });
        await small.store.init();
        try {
          expect(small.store.maxPayloadBytes).toBe(100);
          const fits = { s: 'x'.repeat(92) }; // {"s":"…"} is 100 bytes
          expect((await small.store.insert([newJob({ args: fits })]))[0]!.inserted).toBe(true);
          await expect(small.store.insert([newJob({ args: { s: 'x'.repeat(93) } })])).rejects.toMatchObject({ name: 'PayloadTooLargeError', field: 'args', bytes: 101, limit: 100 });
          await expect(small.store.insert([newJob({ meta: { s: 'é'.repeat(50) } })])).rejects.toBeInstanceOf(PayloadTooLargeError);
          expect(await small.store.count({})).toBe(1);
        } finally {
          await small.store.close();
          await small.cleanup();
        }
        expect(store.maxPayloadBytes).toBe(1_048_576);
        const big = { s: 'x'.repeat(1_500_000) };
        await expect(store.insert([newJob({ args: big })])).rejects.toBeInstanceOf(PayloadTooLargeError);
        const raised = await makeStore({ maxPayloadBytes: 2 * 1_048_576 });
        await raised.store.init();
        try {
          const [result] = await raised.store.insert([newJob({ args: big })]);
          expect((await raised.store.get(result!.job.id))!.args).toEqual(big);
        } finally {
          await raised.store.close();
          await raised.cleanup();
        }
      });

      it('stores a result with U+0000 and lone surrogates (in strings and keys) cleaned to U+FFFD', async () => {
        const job = await running();
        await store.complete(ref(job), { text: 'a\u0000b', lone: ['\uD800', `${PAIR}\uDC00`], ['key\uDBFF']: true }, at(SEC));
        const done = (await store.get(job.id))!;
        expect(done.state).toBe('completed');
        expect(done.result).toEqual({ text: 'a\uFFFDb', lone: ['\uFFFD', `${PAIR}\uFFFD`], 'key\uFFFD': true });
        const text = await running();
        await store.complete(ref(text), 'x\u0000\uDFFF', at(SEC));
        expect((await store.get(text.id))!.result).toBe('x\uFFFD\uFFFD');
      });

      it('refuses a result over maxPayloadBytes with UnstorableResultError, leaving the job running for its attempt to fail', async () => {
        const job = await running();
        const rejection = store.complete(ref(job), { big: 'x'.repeat(1_048_576) }, at(SEC));
        await expect(rejection).rejects.toBeInstanceOf(UnstorableResultError);
        await expect(rejection).rejects.toMatchObject({ jobId: job.id, cause: { name: 'PayloadTooLargeError', field: 'result' } });
        expect(await store.get(job.id)).toMatchObject({ state: 'running', attempt: 1, result: null });
        await store.retry(ref(job), at(2 * SEC), attemptError(1, { name: 'UnstorableResultError' }));
        expect(await state(job.id)).toBe('available');
      });

      it('stores errors and cancel reasons with U+0000 and lone surrogates cleaned, and cancel reasons cut on code points', async () => {
        const dirty = { name: 'Bad\uD800Error', message: `m\u0000 ${'x'.repeat(10)}\uDC00`, stack: 'at \uDBFF\u0000' };
        const retried = await running();
        await store.retry(ref(retried), at(SEC), attemptError(1, dirty));
        const failed = await running();
        await store.fail(ref(failed), 'dead', attemptError(1, dirty), at(SEC));
        const released = await running();
        await store.release(ref(released), at(SEC), attemptError(1, { ...dirty, kind: 'shutdown' }));
        for (const id of [retried.id, failed.id, released.id]) {
          expect((await store.get(id))!.errors[0]).toMatchObject({ name: 'Bad\uFFFDError', message: `m\uFFFD ${'x'.repeat(10)}\uFFFD`, stack: 'at \uFFFD\uFFFD' });
        }
        const cancelled = await running();
        const reason = `stop\u0000${'r'.repeat(1_994)}${PAIR}${'r'.repeat(7)}`;
        await store.cancel(cancelled.id, at(SEC), reason);
        expect((await store.get(cancelled.id))!.errors.at(-1)!.message).toBe(`stop\uFFFD${'r'.repeat(1_994)}${PAIR}… (7 more characters)`);
      });
    });

    describe('heartbeat and rescue', () => {
      it('heartbeat records live attempts and ignores stale ones', async () => {
        const a = await running();
        const b = await running();
        const available = await insert();
        await store.heartbeat(
          [ref(a), { id: b.id, attempt: 7 }, { id: available.id, attempt: 0 }, { id: 'missing', attempt: 1 }],
          at(10 * SEC),
        );
        expect(ms((await store.get(a.id))!.heartbeatAt)).toBe(at(10 * SEC).getTime());
        expect(ms((await store.get(b.id))!.heartbeatAt)).toBe(BASE.getTime());
        expect((await store.get(available.id))!.heartbeatAt).toBeNull();
        await store.heartbeat([], at(11 * SEC));
      });

      it('rescue makes silent jobs available again and leaves live ones', async () => {
        const silent = await running({ maxAttempts: 3 });
        const live = await running();
        await store.heartbeat([ref(live)], at(50 * SEC));
        await insert();

        const rescued = await store.rescue(at(30 * SEC), at(60 * SEC));
        expect(ids(rescued)).toEqual([silent.id]);
        expect(rescued[0]).toMatchObject({ state: 'available', attempt: 1 });
        expect(ms(rescued[0]!.runAt)).toBe(at(60 * SEC).getTime());
        expect(rescued[0]!.errors).toHaveLength(1);
        expect(rescued[0]!.errors[0]).toMatchObject({ kind: 'lease-lost', name: 'RescuedError', attempt: 1 });
        expect(rescued[0]!.errors[0]!.message).toMatch(/^no heartbeat since/);
        expect(await store.get(silent.id)).toEqual(rescued[0]);
        expect(await state(live.id)).toBe('running');

        expect(ids(await claim({ now: at(60 * SEC) }))).toContain(silent.id);
      });

      it('rescue backs off: at once the first time, then doubling per earlier rescue, capped', async () => {
        const job = await running({ maxAttempts: 20 });
        const delays: number[] = [];
        let now = at(60 * SEC);
        for (let i = 0; i < 8; i++) {
          const [rescued] = await store.rescue(now, now);
          delays.push(rescued!.runAt.getTime() - now.getTime());
          const [again] = await claim({ now: rescued!.runAt });
          expect(again!.id).toBe(job.id);
          now = new Date(rescued!.runAt.getTime() + SEC);
        }
        expect(delays).toEqual([0, 1, 2, 4, 8, 16, 32, 64].map((k, i) => (i === 0 ? 0 : Math.min(RESCUE_BACKOFF_BASE * k, RESCUE_BACKOFF_MAX))));
        expect(delays.map((d, i) => d === rescueBackoff(i))).toEqual(delays.map(() => true));
      });

      it('a claim records the start of its first `start` jobs only; a heartbeat or the acknowledgement records the others', async () => {
        const jobs = [await insert(), await insert(), await insert()];
        const claimed = await claim({ limit: 3, start: 1, now: at(SEC) });
        expect(ids(claimed)).toEqual(ids(jobs));
        expect(claimed.map((j) => ms(j.startedAt))).toEqual([at(SEC).getTime(), null, null]);
        expect(claimed.map((j) => ms(j.heartbeatAt))).toEqual([1, 2, 3].map(() => at(SEC).getTime()));
        expect((await store.get(jobs[1]!.id))!.startedAt).toBeNull();
        // Job 2 started at 2 s, reported by the heartbeat at 5 s; job 3 still waits in the buffer.
        await store.heartbeat([{ ...ref(claimed[1]!), startedAt: at(2 * SEC).getTime() }, { ...ref(claimed[2]!), startedAt: null }], at(5 * SEC));
        expect(ms((await store.get(jobs[1]!.id))!.startedAt)).toBe(at(2 * SEC).getTime());
        expect((await store.get(jobs[2]!.id))!.startedAt).toBeNull();
        // Finished before any heartbeat said it started: its last heartbeat stands in.
        await store.complete(ref(claimed[2]!), null, at(6 * SEC));
        expect(ms((await store.get(jobs[2]!.id))!.startedAt)).toBe(at(5 * SEC).getTime());
      });

      it(`rescue gives a job claimed ahead and never started its attempt back, at once, ${FREE_HANDBACKS} times at most`, async () => {
        const started = await insert({ maxAttempts: 1 });
        const ahead = await insert({ maxAttempts: 1 });
        const claimed = await claim({ limit: 2, start: 1 });
        expect(ids(claimed)).toEqual([started.id, ahead.id]);
        const rescued = await store.rescue(at(60 * SEC), at(70 * SEC));
        const byId = new Map(rescued.map((j) => [j.id, j]));
        // The interrupted one spent its only attempt; the one never started did not.
        expect(byId.get(started.id)).toMatchObject({ state: 'dead' });
        expect(byId.get(started.id)!.errors.map((e) => e.kind)).toEqual(['lease-lost']);
        expect(byId.get(ahead.id)).toMatchObject({ state: 'available', attempt: 1, maxAttempts: 2 });
        expect(ms(byId.get(ahead.id)!.runAt)).toBe(at(70 * SEC).getTime());
        expect(byId.get(ahead.id)!.errors.map((e) => e.kind)).toEqual(['unstarted']);
        // Claimed ahead and lost again and again: free FREE_HANDBACKS times, then it counts.
        let now = at(70 * SEC);
        for (let round = 2; ; round++) {
          const [again] = await claim({ ids: [ahead.id], start: 0, now });
          if (!again) break;
          now = new Date(now.getTime() + 60 * SEC);
          const [lost] = await store.rescue(now, now);
          expect(lost!.errors.at(-1)!.kind).toBe(round <= FREE_HANDBACKS ? 'unstarted' : 'lease-lost');
          if (lost!.state === 'dead') break;
        }
        const last = (await store.get(ahead.id))!;
        expect(last.state).toBe('dead');
        expect(last.errors.filter((e) => e.kind === 'unstarted')).toHaveLength(FREE_HANDBACKS);
        expect(last.attempt).toBe(FREE_HANDBACKS + 1);
      });

      it('rescue uses the latest heartbeat, not the start', async () => {
        const job = await running();
        await store.heartbeat([ref(job)], at(40 * SEC));
        expect(await store.rescue(at(30 * SEC), at(60 * SEC))).toEqual([]);
        expect(ids(await store.rescue(at(41 * SEC), at(60 * SEC)))).toEqual([job.id]);
      });

      it('rescue kills a job that has no attempts left', async () => {
        const job = await running({ maxAttempts: 1 });
        const [rescued] = await store.rescue(at(30 * SEC), at(60 * SEC));
        expect(rescued).toMatchObject({ id: job.id, state: 'dead' });
        expect(ms(rescued!.finishedAt)).toBe(at(60 * SEC).getTime());
        expect(rescued!.errors[0]).toMatchObject({ kind: 'lease-lost', name: 'RescuedError' });
        expect(await claim({ now: at(60 * SEC) })).toEqual([]);
      });

      it('rescue frees the serial key of a rescued job', async () => {
        const job = await running({ serialKey: 's', maxAttempts: 1 });
        const waiting = await insert({ serialKey: 's' });
        await store.rescue(at(30 * SEC), at(60 * SEC));
        expect(await state(job.id)).toBe('dead');
        expect(ids(await claim({ now: at(60 * SEC) }))).toEqual([waiting.id]);
      });
    });

    describe('cancel', () => {
      it('cancels an available job and returns it as it was', async () => {
        const job = await insert();
        const before = await store.cancel(job.id, at(5 * SEC), 'not needed');
        expect(before).toMatchObject({ id: job.id, state: 'available', errors: [] });
        const cancelled = (await store.get(job.id))!;
        expect(cancelled.state).toBe('cancelled');
        expect(ms(cancelled.finishedAt)).toBe(at(5 * SEC).getTime());
        expect(cancelled.errors).toHaveLength(1);
        expect(cancelled.errors[0]).toMatchObject({ kind: 'cancel', name: 'CancelledError', message: 'not needed', attempt: 0 });
        expect(ms(cancelled.errors[0]!.at)).toBe(at(5 * SEC).getTime());
        expect(await claim({ now: at(60 * SEC) })).toEqual([]);
      });

      it('cancels a running job', async () => {
        const job = await running();
        const before = await store.cancel(job.id, at(SEC), 'stop');
        expect(before).toMatchObject({ state: 'running', attempt: 1 });
        const cancelled = (await store.get(job.id))!;
        expect(cancelled.state).toBe('cancelled');
        expect(cancelled.errors[0]).toMatchObject({ kind: 'cancel', attempt: 1 });
      });

      it('returns null for final or unknown jobs', async () => {
        const job = await running();
        await store.complete(ref(job), null, BASE);
        expect(await store.cancel(job.id, BASE, 'late')).toBeNull();
        const cancelled = await insert();
        await store.cancel(cancelled.id, BASE, 'once');
        expect(await store.cancel(cancelled.id, BASE, 'twice')).toBeNull();
        expect((await store.get(cancelled.id))!.errors).toHaveLength(1);
        expect(await store.cancel('999999999', BASE, 'missing')).toBeNull();
      });
    });

    describe('resurrect', () => {
      it.each(['dead', 'discarded', 'cancelled'] as const)('brings a %s job back with fresh attempts', async (final) => {
        const job = await running({ maxAttempts: 1 });
        if (final === 'cancelled') await store.cancel(job.id, BASE, 'x');
        else await store.fail(ref(job), final, attemptError(1), BASE);

        const back = await store.resurrect(job.id, at(60 * SEC));
        expect(back).toMatchObject({ id: job.id, state: 'available', attempt: 1, maxAttempts: 2, finishedAt: null });
        expect(ms(back!.runAt)).toBe(at(60 * SEC).getTime());
        expect(back!.errors).toHaveLength(1);
        expect(await store.get(job.id)).toEqual(back);

        const [again] = await claim({ now: at(60 * SEC) });
        expect(again).toMatchObject({ id: job.id, attempt: 2 });
      });

      it('grants as many attempts as the job first had', async () => {
        const job = await insert({ maxAttempts: 3 });
        for (let attempt = 1; attempt <= 3; attempt++) {
          const [claimed] = await claim();
          if (attempt < 3) await store.retry(ref(claimed!), BASE, attemptError(attempt));
          else await store.fail(ref(claimed!), 'dead', attemptError(attempt), BASE);
        }
        const back = await store.resurrect(job.id, BASE);
        expect(back).toMatchObject({ attempt: 3, maxAttempts: 6 });
      });

      it('returns null for jobs that are not dead, discarded or cancelled', async () => {
        const available = await insert();
        const runningJob = await running();
        const completed = await running();
        await store.complete(ref(completed), null, BASE);
        expect(await store.resurrect(available.id, BASE)).toBeNull();
        expect(await store.resurrect(runningJob.id, BASE)).toBeNull();
        expect(await store.resurrect(completed.id, BASE)).toBeNull();
        expect(await store.resurrect('999999999', BASE)).toBeNull();
        expect(await state(runningJob.id)).toBe('running');
      });

      it('refuses when another active job holds the unique key', async () => {
        const job = await running({ uniqueKey: 'u' });
        await store.fail(ref(job), 'dead', attemptError(1), BASE);
        const holder = await insert({ uniqueKey: 'u' });
        await expect(store.resurrect(job.id, BASE)).rejects.toBeInstanceOf(DuplicateJobError);
        expect(await state(job.id)).toBe('dead');

        await store.cancel(holder.id, BASE, 'make room');
        expect(await store.resurrect(job.id, BASE)).toMatchObject({ state: 'available' });
        const [dup] = await store.insert([newJob({ uniqueKey: 'u' })]);
        expect(dup).toMatchObject({ inserted: false, conflict: 'unique' });
        expect(dup!.job.id).toBe(job.id);
      });
    });

    describe('list and count', () => {
      const seed = async () => {
        const a = await insert({ name: 'mail', queue: 'q1' });
        const b = await insert({ name: 'report', schedule: 'nightly', queue: 'q2' });
        const c = await insert({ name: 'nightly', queue: 'q1' });
        const d = await running({ name: 'mail', queue: 'q2' });
        await store.complete(ref(d), null, at(10 * SEC));
        const e = await running({ name: 'mail', queue: 'q1' });
        await store.fail(ref(e), 'dead', attemptError(1), at(20 * SEC));
        return { a, b, c, d, e };
      };

      it('lists newest first by default, oldest first on request', async () => {
        const { a, b, c, d, e } = await seed();
        expect(ids(await store.list({}))).toEqual(ids([e, d, c, b, a]));
        expect(ids(await store.list({ order: 'desc' }))).toEqual(ids([e, d, c, b, a]));
        expect(ids(await store.list({ order: 'asc' }))).toEqual(ids([a, b, c, d, e]));
      });

      it('filters by name, name or schedule, queue, states and finish time', async () => {
        const { a, b, c, d, e } = await seed();
        expect(ids(await store.list({ name: 'mail' }))).toEqual(ids([e, d, a]));
        expect(ids(await store.list({ nameOrSchedule: 'nightly' }))).toEqual(ids([c, b]));
        expect(ids(await store.list({ queue: 'q1' }))).toEqual(ids([e, c, a]));
        expect(ids(await store.list({ states: ['completed', 'dead'] }))).toEqual(ids([e, d]));
        expect(ids(await store.list({ states: [] }))).toEqual([]);
        expect(ids(await store.list({ finishedBefore: at(15 * SEC) }))).toEqual(ids([d]));
        expect(ids(await store.list({ finishedBefore: at(10 * SEC) }))).toEqual([]);
        expect(ids(await store.list({ name: 'mail', queue: 'q1', states: ['available'] }))).toEqual(ids([a]));
        expect(await store.list({ name: 'nobody' })).toEqual([]);

        expect(await store.count({})).toBe(5);
        expect(await store.count({ name: 'mail' })).toBe(3);
        expect(await store.count({ nameOrSchedule: 'nightly' })).toBe(2);
        expect(await store.count({ queue: 'q2' })).toBe(2);
        expect(await store.count({ states: ['available'] })).toBe(3);
        expect(await store.count({ finishedBefore: at(21 * SEC) })).toBe(2);
      });

      it('honours the limit after ordering', async () => {
        const { a, b, d, e } = await seed();
        expect(ids(await store.list({ limit: 2 }))).toEqual(ids([e, d]));
        expect(ids(await store.list({ limit: 2, order: 'asc' }))).toEqual(ids([a, b]));
        expect(ids(await store.list({ limit: 1, name: 'mail', order: 'asc' }))).toEqual(ids([a]));
      });
    });

    describe('delete and prune', () => {
      it('deletes by id and counts what it deleted', async () => {
        const a = await insert();
        const b = await running();
        const c = await insert();
        expect(await store.delete([a.id, b.id, '999999999'])).toBe(2);
        expect(await store.get(a.id)).toBeNull();
        expect(await store.get(b.id)).toBeNull();
        expect(await store.get(c.id)).not.toBeNull();
        expect(await store.delete([])).toBe(0);
        expect(ids(await claim())).toEqual([c.id]);
      });

      it('prunes jobs in the given states finished before a time, oldest first, up to a limit', async () => {
        const finish = async (state: 'completed' | 'dead' | 'cancelled', finishedAt: Date): Promise<Job> => {
          const job = await running({ tickKey: `tick-${finishedAt.getTime()}-${state}` });
          if (state === 'completed') await store.complete(ref(job), null, finishedAt);
          else if (state === 'dead') await store.fail(ref(job), 'dead', attemptError(1), finishedAt);
          else await store.cancel(job.id, finishedAt, 'x');
          return job;
        };
        const c3 = await finish('completed', at(3 * SEC));
        const c1 = await finish('completed', at(1 * SEC));
        const c2 = await finish('completed', at(2 * SEC));
        const c9 = await finish('completed', at(9 * SEC));
        const d1 = await finish('dead', at(1 * SEC));
        const x1 = await finish('cancelled', at(1 * SEC));
        const live = await insert();

        expect(await store.prune(['completed'], at(5 * SEC), 2)).toBe(2);
        expect(await store.get(c1.id)).toBeNull();
        expect(await store.get(c2.id)).toBeNull();
        expect(await store.get(c3.id)).not.toBeNull();

        expect(await store.prune(['completed', 'dead'], at(5 * SEC), 100)).toBe(2);
        expect(await store.get(c3.id)).toBeNull();
        expect(await store.get(d1.id)).toBeNull();
        expect(await store.get(c9.id)).not.toBeNull();
        expect(await store.get(x1.id)).not.toBeNull();
        expect(await store.prune(['completed'], at(9 * SEC), 100)).toBe(0);
        expect(await store.prune(['available', 'cancelled'], at(60 * SEC), 0)).toBe(0);
        expect(await store.prune(['available', 'cancelled'], at(60 * SEC), 100)).toBe(1);
        expect(await store.get(live.id)).not.toBeNull();

        const [again] = await store.insert([newJob({ tickKey: `tick-${at(1 * SEC).getTime()}-completed` })]);
        expect(again!.inserted).toBe(true);
      });
    });

    describe('queue counts and next run', () => {
      it('counts jobs of every queue by state, splitting due from scheduled', async () => {
        await insert({ queue: 'a' });
        await insert({ queue: 'a', runAt: at(-5 * SEC) });
        await insert({ queue: 'a', runAt: at(60 * SEC) });
        await running({ queue: 'a' });
        const completed = await running({ queue: 'a' });
        await store.complete(ref(completed), null, BASE);
        const dead = await running({ queue: 'a' });
        await store.fail(ref(dead), 'dead', attemptError(1), BASE);
        const discarded = await running({ queue: 'a' });
        await store.fail(ref(discarded), 'discarded', attemptError(1), BASE);
        const cancelled = await insert({ queue: 'a' });
        await store.cancel(cancelled.id, BASE, 'x');
        await insert({ queue: 'b', runAt: at(SEC) });
        await store.setQueueState('c', { paused: true });

        const counts = await store.queueCounts(BASE);
        expect(counts).toHaveLength(3);
        const byQueue = new Map(counts.map((c) => [c.queue, c]));
        expect(byQueue.get('a')).toEqual({
          queue: 'a',
          available: 2,
          scheduled: 1,
          running: 1,
          completed: 1,
          dead: 1,
          discarded: 1,
          cancelled: 1,
        });
        expect(byQueue.get('b')).toMatchObject({ available: 0, scheduled: 1, running: 0 });
        expect(byQueue.get('c')).toEqual({
          queue: 'c',
          available: 0,
          scheduled: 0,
          running: 0,
          completed: 0,
          dead: 0,
          discarded: 0,
          cancelled: 0,
        });
        const later = new Map((await store.queueCounts(at(60 * SEC))).map((c) => [c.queue, c]));
        expect(later.get('a')).toMatchObject({ available: 3, scheduled: 0 });
        expect(later.get('b')).toMatchObject({ available: 1, scheduled: 0 });
      });

      it('keeps counts equal to the jobs listed, through every kind of change', async () => {
        const check = async (now: Date): Promise<void> => {
          const jobs = await store.list({ limit: 10_000 });
          const expected = new Map<string, Record<string, number | string>>();
          for (const job of jobs) {
            const c = expected.get(job.queue) ?? { queue: job.queue, available: 0, scheduled: 0, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 };
            const key = job.state === 'available' && job.runAt.getTime() > now.getTime() ? 'scheduled' : job.state;
            c[key] = (c[key] as number) + 1;
            expected.set(job.queue, c);
          }
          const counts = (await store.queueCounts(now)).filter((c) => expected.has(c.queue) || Object.values(c).some((v) => typeof v === 'number' && v > 0));
          expect(counts).toEqual([...expected.values()].sort((a, b) => ((a.queue as string) < (b.queue as string) ? -1 : 1)));
        };
        const pinned = await insert({ queue: 'q1', pinnedNode: 'node-b' });
        await insert({ queue: 'q1', serialKey: 's' });
        await insert({ queue: 'q1', runAt: at(15 * SEC) });
        const later = await insert({ queue: 'q2', runAt: at(30 * SEC) });
        const [a, b] = await Promise.all([running({ queue: 'q1' }), running({ queue: 'q2' })]);
        await check(BASE);
        await store.retry(ref(a), at(10 * SEC), attemptError(1));
        await store.complete(ref(b), { ok: true }, BASE);
        await check(BASE);
        await check(at(20 * SEC));
        const [again] = await claim({ queue: 'q1', now: at(20 * SEC), limit: 5 });
        await store.unclaim([ref(again!)]);
        await store.cancel(later.id, BASE, 'no');
        await store.resurrect(later.id, BASE);
        const dead = await running({ queue: 'q2' });
        await store.fail(ref(dead), 'dead', attemptError(1), BASE);
        await check(at(20 * SEC));
        await store.rescue(at(60 * SEC), at(60 * SEC));
        await store.delete([pinned.id]);
        await store.prune(['completed', 'dead'], at(60 * SEC), 100);
        await check(at(60 * SEC));
        const rest = await store.list({ limit: 100 });
        await store.delete(rest.map((job) => job.id));
        expect(await store.queueCounts(BASE)).toEqual([]);
      });

      it('gives the earliest runAt of an available job in a queue', async () => {
        expect(await store.nextRunAt('default')).toBeNull();
        const late = await insert({ runAt: at(60 * SEC), priority: 0 });
        const early = await insert({ runAt: at(10 * SEC), priority: 9 });
        await insert({ queue: 'other', runAt: at(1 * SEC) });
        expect(ms(await store.nextRunAt('default'))).toBe(at(10 * SEC).getTime());

        const [claimed] = await claim({ ids: [early.id], now: at(10 * SEC) });
        expect(ms(await store.nextRunAt('default'))).toBe(at(60 * SEC).getTime());
        await store.retry(ref(claimed!), at(30 * SEC), attemptError(1));
        expect(ms(await store.nextRunAt('default'))).toBe(at(30 * SEC).getTime());
        await store.cancel(early.id, BASE, 'x');
        await store.cancel(late.id, BASE, 'x');
        expect(await store.nextRunAt('default')).toBeNull();
        expect(ms(await store.nextRunAt('other'))).toBe(at(1 * SEC).getTime());
      });

      it('counts paused jobs in nextRunAt', async () => {
        await insert({ name: 'paused', runAt: at(5 * SEC) });
        await store.setScheduleState('paused', { paused: true });
        await claim({ now: at(10 * SEC) });
        expect(ms(await store.nextRunAt('default'))).toBe(at(5 * SEC).getTime());
      });
    });

    describe('schedules and states', () => {
      it('saves, replaces, lists and deletes stored schedules', async () => {
        expect(await store.listSchedules()).toEqual([]);
        const definition = { cron: '0 * * * *', job: { args: { n: [1] } } };
        await store.saveSchedule({ name: 'hourly', definition });
        await store.saveSchedule({ name: 'daily', definition: { cron: '0 0 * * *' } });
        definition.job.args.n.push(2);
        const listed = await store.listSchedules();
        expect([...listed].sort((x, y) => x.name.localeCompare(y.name))).toEqual([
          { name: 'daily', definition: { cron: '0 0 * * *' } },
          { name: 'hourly', definition: { cron: '0 * * * *', job: { args: { n: [1] } } } },
        ]);
        listed[0]!.definition.mutated = true;

        await store.saveSchedule({ name: 'hourly', definition: { every: 60_000 } });
        const replaced = await store.listSchedules();
        expect(replaced).toHaveLength(2);
        expect(replaced.find((s) => s.name === 'hourly')!.definition).toEqual({ every: 60_000 });
        expect(replaced.find((s) => s.name === 'daily')!.definition).toEqual({ cron: '0 0 * * *' });

        expect(await store.deleteSchedule('hourly')).toBe(true);
        expect(await store.deleteSchedule('hourly')).toBe(false);
        expect((await store.listSchedules()).map((s) => s.name)).toEqual(['daily']);
      });

      it('upserts schedule states with defaults and merges patches', async () => {
        expect(await store.getScheduleStates()).toEqual([]);
        await store.setScheduleState('nightly', { paused: true });
        expect(await store.getScheduleStates()).toEqual([{ name: 'nightly', paused: true, plannedUntil: null }]);
        await store.setScheduleState('nightly', { plannedUntil: at(3_600 * SEC) });
        await store.setScheduleState('hourly', { plannedUntil: at(60 * SEC) });
        const states = await store.getScheduleStates();
        const nightly = states.find((s) => s.name === 'nightly')!;
        expect(nightly.paused).toBe(true);
        expect(ms(nightly.plannedUntil)).toBe(at(3_600 * SEC).getTime());
        const hourly = states.find((s) => s.name === 'hourly')!;
        expect(hourly.paused).toBe(false);
        expect(ms(hourly.plannedUntil)).toBe(at(60 * SEC).getTime());

        await store.setScheduleState('nightly', { paused: false, plannedUntil: null });
        expect((await store.getScheduleStates()).find((s) => s.name === 'nightly')).toEqual({
          name: 'nightly',
          paused: false,
          plannedUntil: null,
        });
      });

      it('deletes a schedule\'s state with the schedule', async () => {
        await store.saveSchedule({ name: 'nightly', definition: { cron: '0 0 * * *' } });
        await store.setScheduleState('nightly', { paused: true, plannedUntil: BASE });
        await store.setScheduleState('other', { paused: true });
        expect(await store.deleteSchedule('nightly')).toBe(true);
        expect((await store.getScheduleStates()).map((s) => s.name)).toEqual(['other']);
      });

      it('upserts queue states with defaults and merges patches', async () => {
        expect(await store.getQueueStates()).toEqual([]);
        await store.setQueueState('mail', { concurrency: 4 });
        expect(await store.getQueueStates()).toEqual([{ name: 'mail', paused: false, concurrency: 4 }]);
        await store.setQueueState('mail', { paused: true });
        await store.setQueueState('reports', { paused: true });
        const states = await store.getQueueStates();
        expect(states.find((s) => s.name === 'mail')).toEqual({ name: 'mail', paused: true, concurrency: 4 });
        expect(states.find((s) => s.name === 'reports')).toEqual({ name: 'reports', paused: true, concurrency: null });
        await store.setQueueState('mail', { concurrency: null });
        expect((await store.getQueueStates()).find((s) => s.name === 'mail')).toEqual({
          name: 'mail',
          paused: true,
          concurrency: null,
        });
      });

      it('answers ping', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('workflow runs', () => {
      const step = (overrides: Partial<StepRun> = {}): StepRun => ({
        state: 'pending',
        attempts: 0,
        output: null,
        error: null,
        skipReason: null,
        jobId: null,
        startedAt: null,
        finishedAt: null,
        completedSeq: null,
        rollback: null,
        ...overrides,
      });

      const newRun = (overrides: Partial<NewWorkflowRun> = {}): NewWorkflowRun => ({
        workflow: 'onboarding',
        version: 'v1',
        state: 'running',
        context: { user: { id: 7, tags: ['a', 'b'] } },
        steps: { first: step(), second: step() },
        trace: null,
        runAt: null,
        ...overrides,
      });

      /** Creates a run and moves it to `state`, finished at `finishedAt`. */
      const runIn = async (state: WorkflowRunState, finishedAt: Date | null, workflow = 'onboarding'): Promise<WorkflowRun> => {
        const run = await store.createRun(newRun({ workflow }), BASE);
        return (await store.updateRun(run.id, BASE, (r) => ({ ...r, state, finishedAt })))!;
      };

      it('creates a run and reads it back, dates inside steps included', async () => {
        const trace = { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 };
        const steps = {
          first: step({
            state: 'completed',
            attempts: 2,
            output: { sent: true, ids: [1, 2] },
            jobId: '41',
            startedAt: at(SEC),
            finishedAt: at(2 * SEC),
            completedSeq: 1,
            rollback: 'done',
          }),
          second: step({ state: 'skipped', skipReason: 'condition', error: 'nope' }),
        };
        const run = await store.createRun(newRun({ state: 'scheduled', steps, trace, runAt: at(60 * SEC) }), at(5 * SEC));
        expect(typeof run.id).toBe('string');
        expect(run).toMatchObject({
          workflow: 'onboarding',
          version: 'v1',
          state: 'scheduled',
          context: { user: { id: 7, tags: ['a', 'b'] } },
          seq: 0,
          error: null,
          trace,
          finishedAt: null,
        });
        expect(ms(run.runAt)).toBe(at(60 * SEC).getTime());
        expect(ms(run.createdAt)).toBe(at(5 * SEC).getTime());
        expect(ms(run.updatedAt)).toBe(at(5 * SEC).getTime());
        expect(run.steps.first!.startedAt).toBeInstanceOf(Date);
        expect(run.steps.first!.finishedAt).toBeInstanceOf(Date);
        expect(run.steps).toEqual(steps);

        const stored = await store.getRun(run.id);
        expect(stored).toEqual(run);
        expect(stored!.steps.first!.startedAt).toBeInstanceOf(Date);
        expect(ms(stored!.steps.first!.finishedAt)).toBe(at(2 * SEC).getTime());
        expect(stored!.steps.second!.startedAt).toBeNull();

        const other = await store.createRun(newRun(), BASE);
        expect(other.id).not.toBe(run.id);
        expect(await store.getRun('999999')).toBeNull();
        expect(await store.getRun('not-an-id')).toBeNull();
      });

      it('isolates stored runs from callers', async () => {
        const input = newRun({ steps: { first: step({ startedAt: at(SEC), output: { n: 1 } }) } });
        const run = await store.createRun(input, BASE);
        (input.context.user as { id: number }).id = 99;
        input.steps.first!.startedAt!.setTime(0);
        input.steps.first!.output!.n = 2;
        run.context.extra = true;
        run.steps.first!.state = 'failed';
        run.steps.first!.startedAt!.setTime(0);
        run.createdAt.setTime(0);

        const stored = await store.getRun(run.id);
        expect(stored!.context).toEqual({ user: { id: 7, tags: ['a', 'b'] } });
        expect(stored!.steps.first).toMatchObject({ state: 'pending', output: { n: 1 } });
        expect(ms(stored!.steps.first!.startedAt)).toBe(at(SEC).getTime());
        expect(ms(stored!.createdAt)).toBe(BASE.getTime());

        // Changes made to what mutate got, or to what it returned, after the call stay outside.
        let seen: WorkflowRun | undefined;
        await store.updateRun(run.id, BASE, (r) => {
          seen = r;
          r.context.touched = 'yes';
          return null;
        });
        expect((await store.getRun(run.id))!.context).not.toHaveProperty('touched');
        const next = { ...seen!, context: { kept: 1 } };
        const saved = await store.updateRun(run.id, BASE, () => next);
        next.context.kept = 2;
        saved!.context.kept = 3;
        expect((await store.getRun(run.id))!.context).toEqual({ kept: 1 });
      });

      it('updateRun saves what mutate returns and bumps updatedAt', async () => {
        const run = await store.createRun(newRun(), BASE);
        let given: WorkflowRun | undefined;
        const saved = await store.updateRun(run.id, at(10 * SEC), (r) => {
          given = structuredClone(r);
          return {
            ...r,
            // id and createdAt are the store's: changes to them are ignored.
            id: 'other',
            createdAt: at(99 * SEC),
            state: 'failed',
            seq: 1,
            error: 'boom',
            context: { ...r.context, first: 'done' },
            steps: { ...r.steps, first: { ...r.steps.first!, state: 'completed', startedAt: at(SEC), finishedAt: at(3 * SEC), completedSeq: 1 } },
            finishedAt: at(10 * SEC),
          };
        });
        expect(given).toEqual(run);
        expect(saved).toMatchObject({ id: run.id, state: 'failed', seq: 1, error: 'boom', context: { first: 'done' } });
        expect(ms(saved!.createdAt)).toBe(BASE.getTime());
        expect(ms(saved!.updatedAt)).toBe(at(10 * SEC).getTime());
        expect(ms(saved!.finishedAt)).toBe(at(10 * SEC).getTime());
        expect(ms(saved!.steps.first!.finishedAt)).toBe(at(3 * SEC).getTime());
        expect(await store.getRun(run.id)).toEqual(saved);
      });

      it('updateRun leaves the run as it was when mutate returns null', async () => {
        const run = await store.createRun(newRun(), BASE);
        const same = await store.updateRun(run.id, at(10 * SEC), () => null);
        expect(same).toEqual(run);
        expect(ms((await store.getRun(run.id))!.updatedAt)).toBe(BASE.getTime());
      });

      it('updateRun of a missing run resolves to null without calling mutate', async () => {
        let called = false;
        const mutate = (r: WorkflowRun): WorkflowRun => {
          called = true;
          return r;
        };
        expect(await store.updateRun('999999', BASE, mutate)).toBeNull();
        expect(await store.updateRun('not-an-id', BASE, mutate)).toBeNull();
        expect(called).toBe(false);
      });

      it('updateRun saves nothing when mutate throws, and rejects with its error', async () => {
        const run = await store.createRun(newRun(), BASE);
        const failure = new Error('mutate failed');
        await expect(
          store.updateRun(run.id, at(SEC), (r) => {
            r.seq = 5;
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await store.getRun(run.id)).toEqual(run);
        // The run is not left locked.
        expect((await store.updateRun(run.id, at(SEC), (r) => ({ ...r, seq: 1 })))!.seq).toBe(1);
      });

      it('refuses states that are not run states', async () => {
        await expect(store.createRun(newRun({ state: 'done' as WorkflowRunState }), BASE)).rejects.toBeInstanceOf(InvalidArgumentError);
        const run = await store.createRun(newRun(), BASE);
        await expect(store.updateRun(run.id, BASE, (r) => ({ ...r, state: 'done' as WorkflowRunState }))).rejects.toBeInstanceOf(
          InvalidArgumentError,
        );
        expect((await store.getRun(run.id))!.state).toBe('running');
      });

      it('serialises concurrent updateRun calls on one run', async () => {
        const run = await store.createRun(newRun(), BASE);
        const seen: number[] = [];
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.updateRun(run.id, at(i * SEC), (r) => {
              seen.push(r.seq);
              return { ...r, seq: r.seq + 1, steps: { ...r.steps, [`s${i}`]: step({ state: 'completed', completedSeq: r.seq + 1 }) } };
            }),
          ),
        );
        expect((await store.getRun(run.id))!.seq).toBe(20);
        // Each mutate saw the previous one's result: no two saw the same run.
        expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
        expect(results.map((r) => r!.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect(Object.keys((await store.getRun(run.id))!.steps)).toHaveLength(22);
      });

      it('lists runs newest first, by workflow and states, up to a limit', async () => {
        const a1 = await runIn('completed', at(SEC), 'a');
        const b1 = await runIn('running', null, 'b');
        const a2 = await runIn('failed', at(2 * SEC), 'a');
        const a3 = await runIn('running', null, 'a');
        const b2 = await runIn('paused', null, 'b');
        const ids = (runs: readonly WorkflowRun[]): string[] => runs.map((r) => r.id);

        expect(ids(await store.listRuns({}))).toEqual([b2.id, a3.id, a2.id, b1.id, a1.id]);
        expect(ids(await store.listRuns({ workflow: 'a' }))).toEqual([a3.id, a2.id, a1.id]);
        expect(ids(await store.listRuns({ states: ['running', 'paused'] }))).toEqual([b2.id, a3.id, b1.id]);
        expect(ids(await store.listRuns({ workflow: 'a', states: ['completed', 'failed'] }))).toEqual([a2.id, a1.id]);
        expect(ids(await store.listRuns({ states: [] }))).toEqual([]);
        expect(ids(await store.listRuns({ workflow: 'c' }))).toEqual([]);
        expect(ids(await store.listRuns({ limit: 2 }))).toEqual([b2.id, a3.id]);
        expect(ids(await store.listRuns({ workflow: 'a', limit: 1 }))).toEqual([a3.id]);
        expect(await store.listRuns({ limit: 0 })).toEqual([]);
        const [listed] = await store.listRuns({ workflow: 'a', states: ['failed'] });
        expect(listed).toEqual(await store.getRun(a2.id));
      });

      it('lists at most 100 runs by default', async () => {
        for (let i = 0; i < 101; i++) await store.createRun(newRun(), BASE);
        expect(await store.listRuns({})).toHaveLength(100);
        expect(await store.listRuns({ limit: 200 })).toHaveLength(101);
      });

      it('deletes finished runs finished before a time, oldest first, up to a limit', async () => {
        const cancelled = await runIn('cancelled', at(3 * SEC));
        const completed = await runIn('completed', at(SEC));
        const failed = await runIn('failed', at(2 * SEC));
        const recent = await runIn('completed', at(10 * SEC));
        const running = await runIn('running', at(SEC)); // not finished, whatever its finishedAt says
        const paused = await runIn('paused', null);
        const scheduled = await runIn('scheduled', null);
        const before = at(5 * SEC);

        expect(await store.deleteRuns(before, 0)).toBe(0);
        expect(await store.deleteRuns(before, 2)).toBe(2);
        expect(await store.getRun(completed.id)).toBeNull();
        expect(await store.getRun(failed.id)).toBeNull();
        expect(await store.getRun(cancelled.id)).not.toBeNull();
        expect(await store.deleteRuns(before, 10)).toBe(1);
        expect(await store.deleteRuns(before, 10)).toBe(0);
        expect(await store.deleteRuns(at(3 * SEC), 10)).toBe(0);
        const left = (await store.listRuns({})).map((r) => r.id).sort();
        expect(left).toEqual([recent.id, running.id, paused.id, scheduled.id].sort());
        expect(await store.deleteRuns(at(11 * SEC), Infinity)).toBe(1);
      });
    });
  });
}
