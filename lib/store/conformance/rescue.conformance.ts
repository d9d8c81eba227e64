import { FREE_HANDBACKS, RESCUE_BACKOFF_BASE, RESCUE_BACKOFF_MAX, rescueBackoff } from '../job-store.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: heartbeats, and the rescue of jobs whose node stopped beating.
 * @internal
 */
export function rescueConformance(suite: ConformanceSuite): void {
  const { BASE, at, ms, SEC, insert, claim, running, ref, state, ids, describe, it, expect } = suite;

  describe('heartbeat and rescue', () => {
    it('heartbeat records live attempts and ignores stale ones', async () => {
      const a = await running();
      const b = await running();
      const available = await insert();
      await suite.store.heartbeat([ref(a), { id: b.id, attempt: 7 }, { id: available.id, attempt: 0 }, { id: 'missing', attempt: 1 }], at(10 * SEC));
      expect(ms((await suite.store.get(a.id))!.heartbeatAt)).toBe(at(10 * SEC).getTime());
      expect(ms((await suite.store.get(b.id))!.heartbeatAt)).toBe(BASE.getTime());
      expect((await suite.store.get(available.id))!.heartbeatAt).toBeNull();
      await suite.store.heartbeat([], at(11 * SEC));
    });

    it('rescue makes silent jobs available again and leaves live ones', async () => {
      const silent = await running({ maxAttempts: 3 });
      const live = await running();
      await suite.store.heartbeat([ref(live)], at(50 * SEC));
      await insert();

      const rescued = await suite.store.rescue(at(30 * SEC), at(60 * SEC));
      expect(ids(rescued)).toEqual([silent.id]);
      expect(rescued[0]).toMatchObject({ state: 'available', attempt: 1 });
      expect(ms(rescued[0]!.runAt)).toBe(at(60 * SEC).getTime());
      expect(rescued[0]!.errors).toHaveLength(1);
      expect(rescued[0]!.errors[0]).toMatchObject({ kind: 'lease-lost', name: 'RescuedError', attempt: 1 });
      expect(rescued[0]!.errors[0]!.message).toMatch(/^no heartbeat since/);
      expect(await suite.store.get(silent.id)).toEqual(rescued[0]);
      expect(await state(live.id)).toBe('running');

      expect(ids(await claim({ now: at(60 * SEC) }))).toContain(silent.id);
    });

    it('rescue backs off: at once the first time, then doubling per earlier rescue, capped', async () => {
      const job = await running({ maxAttempts: 20 });
      const delays: number[] = [];
      let now = at(60 * SEC);
      for (let i = 0; i < 8; i++) {
        const [rescued] = await suite.store.rescue(now, now);
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
      expect((await suite.store.get(jobs[1]!.id))!.startedAt).toBeNull();
      // Job 2 started at 2 s, reported by the heartbeat at 5 s; job 3 still waits in the buffer.
      await suite.store.heartbeat(
        [
          { ...ref(claimed[1]!), startedAt: at(2 * SEC).getTime() },
          { ...ref(claimed[2]!), startedAt: null },
        ],
        at(5 * SEC),
      );
      expect(ms((await suite.store.get(jobs[1]!.id))!.startedAt)).toBe(at(2 * SEC).getTime());
      expect((await suite.store.get(jobs[2]!.id))!.startedAt).toBeNull();
      // Finished before any heartbeat said it started: its last heartbeat stands in.
      await suite.store.complete(ref(claimed[2]!), null, at(6 * SEC));
      expect(ms((await suite.store.get(jobs[2]!.id))!.startedAt)).toBe(at(5 * SEC).getTime());
    });

    it("a job claimed ahead on a later attempt shows no start, not its earlier attempt's", async () => {
      const job = await running({ maxAttempts: 3 });
      expect(ms(job.startedAt)).toBe(BASE.getTime());
      await suite.store.retry(ref(job), at(SEC), suite.attemptError(1));
      const [ahead] = await claim({ start: 0, now: at(2 * SEC) });
      expect(ahead).toMatchObject({ id: job.id, attempt: 2, startedAt: null });
      expect((await suite.store.get(job.id))!.startedAt).toBeNull();
      await suite.store.complete(ref(ahead!), 'done', at(3 * SEC));
      const done = (await suite.store.get(job.id))!;
      expect([done.state, done.result, ms(done.startedAt), ms(done.finishedAt)]).toEqual(['completed', 'done', at(2 * SEC).getTime(), at(3 * SEC).getTime()]);
    });

    it(`rescue gives a job claimed ahead and never started its attempt back, at once, ${FREE_HANDBACKS} times at most`, async () => {
      const started = await insert({ maxAttempts: 1 });
      const ahead = await insert({ maxAttempts: 1 });
      const claimed = await claim({ limit: 2, start: 1 });
      expect(ids(claimed)).toEqual([started.id, ahead.id]);
      const rescued = await suite.store.rescue(at(60 * SEC), at(70 * SEC));
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
        const [lost] = await suite.store.rescue(now, now);
        expect(lost!.errors.at(-1)!.kind).toBe(round <= FREE_HANDBACKS ? 'unstarted' : 'lease-lost');
        if (lost!.state === 'dead') break;
      }
      const last = (await suite.store.get(ahead.id))!;
      expect(last.state).toBe('dead');
      expect(last.errors.filter((e) => e.kind === 'unstarted')).toHaveLength(FREE_HANDBACKS);
      expect(last.attempt).toBe(FREE_HANDBACKS + 1);
    });

    it('rescue uses the latest heartbeat, not the start', async () => {
      const job = await running();
      await suite.store.heartbeat([ref(job)], at(40 * SEC));
      expect(await suite.store.rescue(at(30 * SEC), at(60 * SEC))).toEqual([]);
      expect(ids(await suite.store.rescue(at(41 * SEC), at(60 * SEC)))).toEqual([job.id]);
    });

    it('rescue kills a job that has no attempts left', async () => {
      const job = await running({ maxAttempts: 1 });
      const [rescued] = await suite.store.rescue(at(30 * SEC), at(60 * SEC));
      expect(rescued).toMatchObject({ id: job.id, state: 'dead' });
      expect(ms(rescued!.finishedAt)).toBe(at(60 * SEC).getTime());
      expect(rescued!.errors[0]).toMatchObject({ kind: 'lease-lost', name: 'RescuedError' });
      expect(await claim({ now: at(60 * SEC) })).toEqual([]);
    });

    it('rescue frees the serial key of a rescued job', async () => {
      const job = await running({ serialKey: 's', maxAttempts: 1 });
      const waiting = await insert({ serialKey: 's' });
      await suite.store.rescue(at(30 * SEC), at(60 * SEC));
      expect(await state(job.id)).toBe('dead');
      expect(ids(await claim({ now: at(60 * SEC) }))).toEqual([waiting.id]);
    });
  });
}
