import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: queue counts and the next run of a queue.
 * @internal
 */
export function queuesConformance(suite: ConformanceSuite): void {
  const { BASE, at, ms, SEC, insert, claim, running, ref, attemptError, describe, it, expect } = suite;

  describe('queue counts and next run', () => {
    it('counts jobs of every queue by state, splitting due from scheduled', async () => {
      await insert({ queue: 'a' });
      await insert({ queue: 'a', runAt: at(-5 * SEC) });
      await insert({ queue: 'a', runAt: at(60 * SEC) });
      await running({ queue: 'a' });
      const completed = await running({ queue: 'a' });
      await suite.store.complete(ref(completed), null, BASE);
      const dead = await running({ queue: 'a' });
      await suite.store.fail(ref(dead), 'dead', attemptError(1), BASE);
      const discarded = await running({ queue: 'a' });
      await suite.store.fail(ref(discarded), 'discarded', attemptError(1), BASE);
      const cancelled = await insert({ queue: 'a' });
      await suite.store.cancel(cancelled.id, BASE, 'x');
      await insert({ queue: 'b', runAt: at(SEC) });
      await suite.store.setQueueState('c', { paused: true });
      // A queue whose every job has finished still shows.
      const done = await running({ queue: 'd' });
      await suite.store.complete(ref(done), null, BASE);

      const counts = await suite.store.queueCounts(BASE);
      expect(counts).toHaveLength(4);
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
      expect(byQueue.get('d')).toMatchObject({ available: 0, running: 0, completed: 1, dead: 0 });
      const later = new Map((await suite.store.queueCounts(at(60 * SEC))).map((c) => [c.queue, c]));
      expect(later.get('a')).toMatchObject({ available: 3, scheduled: 0 });
      expect(later.get('b')).toMatchObject({ available: 1, scheduled: 0 });
    });

    it('counts jobs of a paused name or schedule as any others: due ones available, later ones scheduled', async () => {
      await insert({ name: 'paused' });
      await insert({ name: 'paused', runAt: at(60 * SEC) });
      await insert({ name: 'work', schedule: 'nightly' });
      await insert({ name: 'work' });
      await suite.store.setScheduleState('paused', { paused: true });
      await suite.store.setScheduleState('nightly', { paused: true });
      expect((await suite.store.queueCounts(BASE)).find((c) => c.queue === 'default')).toMatchObject({ available: 3, scheduled: 1 });
      expect((await suite.store.queueCounts(at(60 * SEC))).find((c) => c.queue === 'default')).toMatchObject({ available: 4, scheduled: 0 });
      await suite.store.setScheduleState('paused', { paused: false });
      expect((await suite.store.queueCounts(BASE)).find((c) => c.queue === 'default')).toMatchObject({ available: 3, scheduled: 1 });
    });

    it('keeps counts equal to the jobs listed, through every kind of change', async () => {
      const check = async (now: Date): Promise<void> => {
        const jobs = await suite.store.list({ limit: 10_000 });
        const expected = new Map<string, Record<string, number | string>>();
        for (const job of jobs) {
          const c = expected.get(job.queue) ?? { queue: job.queue, available: 0, scheduled: 0, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 };
          const key = job.state === 'available' && job.runAt.getTime() > now.getTime() ? 'scheduled' : job.state;
          c[key] = (c[key] as number) + 1;
          expected.set(job.queue, c);
        }
        const counts = (await suite.store.queueCounts(now)).filter(
          (c) => expected.has(c.queue) || Object.values(c).some((v) => typeof v === 'number' && v > 0),
        );
        expect(counts).toEqual([...expected.values()].sort((a, b) => ((a.queue as string) < (b.queue as string) ? -1 : 1)));
      };
      const pinned = await insert({ queue: 'q1', pinnedNode: 'node-b' });
      await insert({ queue: 'q1', serialKey: 's' });
      await insert({ queue: 'q1', runAt: at(15 * SEC) });
      const later = await insert({ queue: 'q2', runAt: at(30 * SEC) });
      const [a, b] = await Promise.all([running({ queue: 'q1' }), running({ queue: 'q2' })]);
      await check(BASE);
      await suite.store.retry(ref(a), at(10 * SEC), attemptError(1));
      await suite.store.complete(ref(b), { ok: true }, BASE);
      await check(BASE);
      await check(at(20 * SEC));
      const [again] = await claim({ queue: 'q1', now: at(20 * SEC), limit: 5 });
      await suite.store.unclaim([ref(again!)]);
      await suite.store.cancel(later.id, BASE, 'no');
      await suite.store.resurrect(later.id, BASE);
      const dead = await running({ queue: 'q2' });
      await suite.store.fail(ref(dead), 'dead', attemptError(1), BASE);
      await check(at(20 * SEC));
      await suite.store.rescue(at(60 * SEC), at(60 * SEC));
      await suite.store.delete([pinned.id]);
      await suite.store.prune(['completed', 'dead'], at(60 * SEC), 100);
      await check(at(60 * SEC));
      const rest = await suite.store.list({ limit: 100 });
      await suite.store.delete(rest.map((job) => job.id));
      expect(await suite.store.queueCounts(BASE)).toEqual([]);
    });

    it('gives the earliest runAt of an available job in a queue', async () => {
      expect(await suite.store.nextRunAt('default')).toBeNull();
      const late = await insert({ runAt: at(60 * SEC), priority: 0 });
      const early = await insert({ runAt: at(10 * SEC), priority: 9 });
      await insert({ queue: 'other', runAt: at(1 * SEC) });
      expect(ms(await suite.store.nextRunAt('default'))).toBe(at(10 * SEC).getTime());

      const [claimed] = await claim({ ids: [early.id], now: at(10 * SEC) });
      expect(ms(await suite.store.nextRunAt('default'))).toBe(at(60 * SEC).getTime());
      await suite.store.retry(ref(claimed!), at(30 * SEC), attemptError(1));
      expect(ms(await suite.store.nextRunAt('default'))).toBe(at(30 * SEC).getTime());
      await suite.store.cancel(early.id, BASE, 'x');
      await suite.store.cancel(late.id, BASE, 'x');
      expect(await suite.store.nextRunAt('default')).toBeNull();
      expect(ms(await suite.store.nextRunAt('other'))).toBe(at(1 * SEC).getTime());
    });

    it('leaves jobs a paused name or schedule holds back out of nextRunAt, and counts them again once resumed', async () => {
      await insert({ name: 'paused', runAt: at(5 * SEC) });
      await insert({ name: 'tick', schedule: 'nightly', runAt: at(6 * SEC) });
      await insert({ name: 'other', runAt: at(20 * SEC) });
      await suite.store.setScheduleState('paused', { paused: true });
      await suite.store.setScheduleState('nightly', { paused: true });
      await claim({ now: at(10 * SEC) });
      expect(ms(await suite.store.nextRunAt('default'))).toBe(at(20 * SEC).getTime());
      // A paused name's job inserted while it is paused is left out too.
      await insert({ name: 'paused', runAt: at(1 * SEC) });
      expect(ms(await suite.store.nextRunAt('default'))).toBe(at(20 * SEC).getTime());
      await suite.store.setScheduleState('nightly', { paused: false });
      expect(ms(await suite.store.nextRunAt('default'))).toBe(at(6 * SEC).getTime());
      await suite.store.setScheduleState('paused', { paused: false });
      expect(ms(await suite.store.nextRunAt('default'))).toBe(at(1 * SEC).getTime());
      await suite.store.setScheduleState('other', { paused: true });
      await suite.store.setScheduleState('paused', { paused: true });
      await suite.store.setScheduleState('nightly', { paused: true });
      expect(await suite.store.nextRunAt('default')).toBeNull();
    });
  });
}
