import type { Job } from '../job.types.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: list, count, delete and prune.
 * @internal
 */
export function queriesConformance(suite: ConformanceSuite): void {
  const { at, SEC, newJob, insert, claim, running, ref, attemptError, ids, describe, it, expect } = suite;

  describe('list and count', () => {
    const seed = async () => {
      const a = await insert({ name: 'mail', queue: 'q1' });
      const b = await insert({ name: 'report', schedule: 'nightly', queue: 'q2' });
      const c = await insert({ name: 'nightly', queue: 'q1' });
      const d = await running({ name: 'mail', queue: 'q2' });
      await suite.store.complete(ref(d), null, at(10 * SEC));
      const e = await running({ name: 'mail', queue: 'q1' });
      await suite.store.fail(ref(e), 'dead', attemptError(1), at(20 * SEC));
      return { a, b, c, d, e };
    };

    it('lists newest first by default, oldest first on request', async () => {
      const { a, b, c, d, e } = await seed();
      expect(ids(await suite.store.list({}))).toEqual(ids([e, d, c, b, a]));
      expect(ids(await suite.store.list({ order: 'desc' }))).toEqual(ids([e, d, c, b, a]));
      expect(ids(await suite.store.list({ order: 'asc' }))).toEqual(ids([a, b, c, d, e]));
    });

    it('filters by name, name or schedule, queue, states and finish time', async () => {
      const { a, b, c, d, e } = await seed();
      expect(ids(await suite.store.list({ name: 'mail' }))).toEqual(ids([e, d, a]));
      expect(ids(await suite.store.list({ nameOrSchedule: 'nightly' }))).toEqual(ids([c, b]));
      expect(ids(await suite.store.list({ queue: 'q1' }))).toEqual(ids([e, c, a]));
      expect(ids(await suite.store.list({ states: ['completed', 'dead'] }))).toEqual(ids([e, d]));
      expect(ids(await suite.store.list({ states: [] }))).toEqual([]);
      expect(ids(await suite.store.list({ finishedBefore: at(15 * SEC) }))).toEqual(ids([d]));
      expect(ids(await suite.store.list({ finishedBefore: at(10 * SEC) }))).toEqual([]);
      expect(ids(await suite.store.list({ name: 'mail', queue: 'q1', states: ['available'] }))).toEqual(ids([a]));
      expect(await suite.store.list({ name: 'nobody' })).toEqual([]);

      expect(await suite.store.count({})).toBe(5);
      expect(await suite.store.count({ name: 'mail' })).toBe(3);
      expect(await suite.store.count({ nameOrSchedule: 'nightly' })).toBe(2);
      expect(await suite.store.count({ queue: 'q2' })).toBe(2);
      expect(await suite.store.count({ states: ['available'] })).toBe(3);
      expect(await suite.store.count({ finishedBefore: at(21 * SEC) })).toBe(2);
    });

    it('honours the limit after ordering', async () => {
      const { a, b, d, e } = await seed();
      expect(ids(await suite.store.list({ limit: 2 }))).toEqual(ids([e, d]));
      expect(ids(await suite.store.list({ limit: 2, order: 'asc' }))).toEqual(ids([a, b]));
      expect(ids(await suite.store.list({ limit: 1, name: 'mail', order: 'asc' }))).toEqual(ids([a]));
    });

    it('pages by id past a cursor (afterId), in either order, with the other filters', async () => {
      const { a, b, c, d, e } = await seed();
      expect(ids(await suite.store.list({ afterId: d.id, limit: 2 }))).toEqual(ids([c, b]));
      expect(ids(await suite.store.list({ afterId: b.id }))).toEqual(ids([a]));
      expect(ids(await suite.store.list({ afterId: a.id }))).toEqual([]);
      expect(ids(await suite.store.list({ afterId: b.id, order: 'asc', limit: 2 }))).toEqual(ids([c, d]));
      expect(ids(await suite.store.list({ afterId: e.id, name: 'mail' }))).toEqual(ids([d, a]));
      expect(ids(await suite.store.list({ afterId: e.id, states: ['running', 'completed'] }))).toEqual(ids([d]));
      expect(ids(await suite.store.list({ afterId: c.id, nameOrSchedule: 'nightly' }))).toEqual(ids([b]));
      expect(await suite.store.count({ afterId: c.id })).toBe(2);
    });

    it('filters by available, running and dead alone, together, and with a queue and a cursor', async () => {
      const { a, b, c, e } = await seed();
      const f = await running({ name: 'mail', queue: 'q2' });
      expect(ids(await suite.store.list({ states: ['running'] }))).toEqual(ids([f]));
      expect(ids(await suite.store.list({ states: ['available', 'running'] }))).toEqual(ids([f, c, b, a]));
      expect(ids(await suite.store.list({ states: ['available'], queue: 'q1' }))).toEqual(ids([c, a]));
      expect(ids(await suite.store.list({ states: ['dead'], queue: 'q1' }))).toEqual(ids([e]));
      expect(await suite.store.list({ states: ['dead'], queue: 'q2' })).toEqual([]);
      expect(ids(await suite.store.list({ states: ['available', 'dead'], queue: 'q1', limit: 2 }))).toEqual(ids([e, c]));
      expect(ids(await suite.store.list({ states: ['available', 'dead'], queue: 'q1', afterId: c.id }))).toEqual(ids([a]));
      expect(await suite.store.count({ states: ['running', 'dead'] })).toBe(2);
      expect(await suite.store.count({ states: ['available'], queue: 'q2' })).toBe(1);
    });
  });

  describe('delete and prune', () => {
    it('deletes by id and counts what it deleted', async () => {
      const a = await insert();
      const b = await running();
      const c = await insert();
      expect(await suite.store.delete([a.id, b.id, '999999999'])).toBe(2);
      expect(await suite.store.get(a.id)).toBeNull();
      expect(await suite.store.get(b.id)).toBeNull();
      expect(await suite.store.get(c.id)).not.toBeNull();
      expect(await suite.store.delete([])).toBe(0);
      expect(ids(await claim())).toEqual([c.id]);
    });

    it('deletes only jobs in the given states, and leaves the rest as they were (a running job keeps its attempt, a waiting one its place)', async () => {
      const waiting = await insert();
      const busy = await running();
      const done = await running();
      await suite.store.complete(ref(done), null, at(5 * SEC));
      expect(await suite.store.delete([waiting.id, busy.id, done.id], { states: ['completed', 'dead'] })).toBe(1);
      expect(await suite.store.get(done.id)).toBeNull();
      expect((await suite.store.get(busy.id))?.state).toBe('running');
      expect((await suite.store.get(waiting.id))?.state).toBe('available');
      // The waiting job kept its place in the queue, and the running one still owns its attempt.
      expect(ids(await claim())).toEqual([waiting.id]);
      await suite.store.complete(ref(busy), null, at(6 * SEC));
      expect((await suite.store.get(busy.id))?.state).toBe('completed');
      expect(await suite.store.delete([waiting.id, busy.id], { states: [] })).toBe(0);
      expect(await suite.store.delete([busy.id], { states: ['available', 'completed'] })).toBe(1);
    });

    it('prunes jobs in the given states finished before a time, up to a limit', async () => {
      const finish = async (state: 'completed' | 'dead' | 'cancelled', finishedAt: Date): Promise<Job> => {
        const job = await running({ tickKey: `tick-${finishedAt.getTime()}-${state}` });
        if (state === 'completed') await suite.store.complete(ref(job), null, finishedAt);
        else if (state === 'dead') await suite.store.fail(ref(job), 'dead', attemptError(1), finishedAt);
        else await suite.store.cancel(job.id, finishedAt, 'x');
        return job;
      };
      const c3 = await finish('completed', at(3 * SEC));
      const c1 = await finish('completed', at(1 * SEC));
      const c2 = await finish('completed', at(2 * SEC));
      const c9 = await finish('completed', at(9 * SEC));
      const d1 = await finish('dead', at(1 * SEC));
      const x1 = await finish('cancelled', at(1 * SEC));
      const live = await insert();

      // Which of the matching jobs go first is the store's choice (oldest finish, oldest id…).
      expect(await suite.store.prune(['completed'], at(5 * SEC), 2)).toBe(2);
      const left = async (jobs: Job[]): Promise<number> => (await Promise.all(jobs.map((j) => suite.store.get(j.id)))).filter(Boolean).length;
      expect(await left([c1, c2, c3])).toBe(1);

      expect(await suite.store.prune(['completed', 'dead'], at(5 * SEC), 100)).toBe(2);
      expect(await left([c1, c2, c3])).toBe(0);
      expect(await suite.store.get(d1.id)).toBeNull();
      expect(await suite.store.get(c9.id)).not.toBeNull();
      expect(await suite.store.get(x1.id)).not.toBeNull();
      expect(await suite.store.prune(['completed'], at(9 * SEC), 100)).toBe(0);
      expect(await suite.store.prune(['available', 'cancelled'], at(60 * SEC), 0)).toBe(0);
      expect(await suite.store.prune(['available', 'cancelled'], at(60 * SEC), 100)).toBe(1);
      expect(await suite.store.get(live.id)).not.toBeNull();

      const [again] = await suite.store.insert([newJob({ tickKey: `tick-${at(1 * SEC).getTime()}-completed` })]);
      expect(again!.inserted).toBe(true);
    });

    it('prunes a backlog batch by batch, and a prune short of its limit leaves nothing that matches, older jobs that expired meanwhile included', async () => {
      const kept = await running();
      await suite.store.fail(ref(kept), 'dead', attemptError(1), at(1 * SEC));
      const late = await running();
      const jobs = [];
      for (let i = 0; i < 5; i++) jobs.push(await running());
      for (const job of jobs) await suite.store.complete(ref(job), null, at(1 * SEC));
      expect(await suite.store.prune(['completed'], at(5 * SEC), 2)).toBe(2);
      // Older than every job left, and expired only now: a later batch must still find it.
      await suite.store.complete(ref(late), null, at(2 * SEC));
      expect(await suite.store.prune(['completed'], at(5 * SEC), 2)).toBe(2);
      expect(await suite.store.prune(['completed'], at(5 * SEC), 2)).toBe(2);
      expect(await suite.store.prune(['completed'], at(5 * SEC), 2)).toBe(0);
      for (const job of [late, ...jobs]) expect(await suite.store.get(job.id)).toBeNull();
      expect((await suite.store.get(kept.id))?.state).toBe('dead');
    });
  });
}
