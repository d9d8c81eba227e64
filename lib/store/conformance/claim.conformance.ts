import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: what a claim takes (due, in order, by queue, by id, paused, pinned).
 * @internal
 */
export function claimConformance(suite: ConformanceSuite): void {
  const { BASE, at, ms, SEC, newJob, insert, claim, state, ids, describe, it, expect } = suite;

  describe('claim', () => {
    it('moves due jobs to running and records the attempt', async () => {
      const job = await insert();
      const now = at(3 * SEC);
      const [claimed] = await claim({ now, node: 'node-x' });
      expect(claimed).toMatchObject({ id: job.id, state: 'running', attempt: 1, node: 'node-x' });
      expect(ms(claimed!.startedAt)).toBe(now.getTime());
      expect(ms(claimed!.heartbeatAt)).toBe(now.getTime());
      expect(claimed!.fencingToken).toBeGreaterThan(0);
      expect(await suite.store.get(job.id)).toEqual(claimed);
    });

    it('returns the times of claimed jobs to the millisecond, for every millisecond and until 2105', async () => {
      // Every millisecond remainder 0..999, today and near the end of the
      // range where a float8 epoch still holds microseconds exactly, and
      // times that a float8 epoch times 1000, floored, gets 1 ms wrong.
      const starts = [BASE.getTime(), Date.UTC(2105, 11, 31, 23, 0, 0)];
      const hard = [67586912534, 539641022808, 547506256244, 1090811239508, 1094305382350];
      const times = [...starts.flatMap((start) => Array.from({ length: 1000 }, (_, k) => start + k * 1001)), ...hard].sort((a, b) => a - b);
      await suite.store.insert(times.map((t) => newJob({ runAt: new Date(t), scheduledAt: new Date(t + 1) })));
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
      const results = await suite.store.insert(Array.from({ length: 5 }, () => newJob()));
      const first = await claim({ limit: 2 });
      const rest = await claim({ limit: 10 });
      expect([...ids(first), ...ids(rest)]).toEqual(results.map((r) => r.job.id));
    });

    it('honours the limit', async () => {
      await suite.store.insert(Array.from({ length: 5 }, () => newJob()));
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

    it("judges due-ness by each claim's own time, even when an earlier claim was later", async () => {
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
      await suite.store.setScheduleState('paused', { paused: true });
      await suite.store.setScheduleState('nightly', { paused: true });

      expect(ids(await claim())).toEqual([free.id]);
      expect(await claim()).toEqual([]);
      expect(await state(paused.id)).toBe('available');

      const later = await insert({ name: 'work', priority: 5 });
      await suite.store.setScheduleState('nightly', { paused: false });
      await suite.store.setScheduleState('paused', { paused: false });
      expect(ids(await claim())).toEqual([paused.id, fromSchedule.id, later.id]);
    });

    it('skips paused jobs when claiming by id', async () => {
      const job = await insert({ name: 'paused' });
      await suite.store.setScheduleState('paused', { paused: true });
      expect(await claim({ ids: [job.id] })).toEqual([]);
      await suite.store.setScheduleState('paused', { paused: false });
      expect(ids(await claim({ ids: [job.id] }))).toEqual([job.id]);
    });

    it('resumes a schedule whose state is deleted with it', async () => {
      const job = await insert({ schedule: 'gone' });
      await suite.store.setScheduleState('gone', { paused: true });
      expect(await claim()).toEqual([]);
      await suite.store.deleteSchedule('gone');
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

    it("merges a node's pinned jobs into claim order", async () => {
      const a = await insert({ priority: 1 });
      const pinned = await insert({ priority: 2, pinnedNode: 'node-b' });
      const c = await insert({ priority: 3 });
      expect(ids(await claim({ node: 'node-b' }))).toEqual([a.id, pinned.id, c.id]);
    });
  });
}
