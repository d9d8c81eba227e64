import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: what claims guarantee (serial keys, the same picks as a full scan, no job held twice, fencing tokens).
 * @internal
 */
export function claimGuaranteesConformance(suite: ConformanceSuite): void {
  const { BASE, at, ms, SEC, newJob, insert, claim, running, ref, attemptError, ids, describe, it, expect } = suite;

  describe('claim', () => {
    it('allows one waiting job per serial key and starts none while one runs', async () => {
      const first = await insert({ serialKey: 'account-1' });
      const [duplicate] = await suite.store.insert([newJob({ serialKey: 'account-1' })]);
      expect(duplicate).toMatchObject({ inserted: false, conflict: 'serial' });
      expect(duplicate!.job.id).toBe(first.id);

      const other = await insert({ serialKey: 'account-2' });
      expect(ids(await claim())).toEqual([first.id, other.id]);
      const waiting = await insert({ serialKey: 'account-1' });
      const [again] = await suite.store.insert([newJob({ serialKey: 'account-1' })]);
      expect(again).toMatchObject({ inserted: false, conflict: 'serial' });
      expect(again!.job.id).toBe(waiting.id);

      expect(await claim()).toEqual([]);
      expect(await claim({ ids: [waiting.id] })).toEqual([]);
      await suite.store.complete({ id: first.id, attempt: 1 }, null, at(SEC));
      expect(ids(await claim({ now: at(SEC) }))).toEqual([waiting.id]);
    });

    it('starts the waiting serial job after the running one fails, is cancelled or deleted', async () => {
      for (const end of ['fail', 'cancel', 'delete'] as const) {
        const key = `serial-${end}`;
        const runningJob = await running({ serialKey: key });
        const waiting = await insert({ serialKey: key });
        expect(ids(await claim())).toEqual([]);
        if (end === 'fail') await suite.store.fail(ref(runningJob), 'dead', attemptError(1), BASE);
        if (end === 'cancel') await suite.store.cancel(runningJob.id, BASE, 'stop');
        if (end === 'delete') await suite.store.delete([runningJob.id]);
        expect(ids(await claim())).toEqual([waiting.id]);
      }
    });

    it('starts only one of several available jobs sharing a serial key', async () => {
      const first = await running({ serialKey: 's' });
      const waiting = await insert({ serialKey: 's' });
      await suite.store.retry(ref(first), BASE, attemptError(1));
      expect(ids(await claim())).toEqual([first.id]);
      expect(await claim()).toEqual([]);
      const [again] = await suite.store.insert([newJob({ serialKey: 's' })]);
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
          await suite.store.insert([
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
          await suite.store.setScheduleState(key, { paused: !paused.has(key) });
          if (paused.has(key)) paused.delete(key);
          else paused.add(key);
        } else if (r < 0.65) {
          const active = await suite.store.list({ states: next() < 0.85 ? ['running'] : ['available'] });
          if (active.length === 0) continue;
          const job = pick(active);
          const action = job.state === 'available' ? 'cancel' : pick(['complete', 'retry', 'fail', 'release', 'cancel']);
          const when = at(now);
          if (action === 'complete') await suite.store.complete(ref(job), null, when);
          if (action === 'retry') await suite.store.retry(ref(job), at(now + Math.floor(next() * 10) * SEC), attemptError(job.attempt));
          if (action === 'fail') await suite.store.fail(ref(job), 'dead', attemptError(job.attempt), when);
          if (action === 'release') await suite.store.release(ref(job), when, attemptError(job.attempt));
          if (action === 'cancel') await suite.store.cancel(job.id, when, 'random');
        } else if (r < 0.72) {
          // Mostly forward; sometimes a node whose clock is a little behind.
          now += Math.floor((next() - 0.2) * 6) * SEC;
        } else {
          const queue = pick(queues);
          const node = pick(nodes);
          const limit = 1 + Math.floor(next() * 3);
          const available = await suite.store.list({ states: ['available'], queue });
          const runningKeys = new Set((await suite.store.list({ states: ['running'] })).map((j) => j.serialKey));
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
      await suite.store.insert(Array.from({ length: 7 }, () => newJob()));
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
      await suite.store.retry(ref(first!), BASE, attemptError(1));
      const batch = (await claim()).map((j) => j.fencingToken);
      expect(batch).toHaveLength(3);
      expect(new Set(batch).size).toBe(3);
      for (const token of batch) expect(token).toBeGreaterThan(first!.fencingToken);
      const reclaimed = (await suite.store.get(job.id))!;
      expect(reclaimed.attempt).toBe(2);
      await suite.store.retry(ref(reclaimed), BASE, attemptError(2));
      const [last] = await claim();
      expect(last!.fencingToken).toBeGreaterThan(Math.max(...batch));
    });
  });
}
