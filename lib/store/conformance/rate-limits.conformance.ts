import type { ClaimRateLimits, JobRateLimits, RateLimitedClaim } from '../job-store.js';
import type { ConformanceSuite } from './suite.js';

/** A bucket of `capacity` tokens refilled in an hour: the test's real time never refills a whole one. */
const slow = (capacity: number) => ({ capacity, refillPerSecond: capacity / 3600 });

/**
 * Conformance: rate-limited claims (`JobStore.rateLimits`) take at most the
 * tokens their buckets hold, hold back only the jobs a limit applies to, and
 * take the held ones once the buckets refill. A store without rate limits
 * skips these cases.
 * @internal
 */
export function rateLimitsConformance(suite: ConformanceSuite): void {
  const { BASE, SEC, newJob, ids, describe, it, expect } = suite;
  const limited = (): JobRateLimits | undefined => suite.store.rateLimits;
  const claim = (limits: ClaimRateLimits, options: { limit?: number; now?: Date; queue?: string } = {}): Promise<RateLimitedClaim> =>
    limited()!.claim({ queue: options.queue ?? 'default', limit: options.limit ?? 10, node: 'node-a', now: options.now ?? BASE }, limits);
  const insertMany = async (count: number, name = 'work', queue = 'default') =>
    (await suite.store.insert(Array.from({ length: count }, () => newJob({ name, queue })))).map((r) => r.job);

  describe('rate limits', () => {
    it('a claim takes at most the tokens of the queue bucket; the rest are held back, available, with no attempt spent', async () => {
      if (!limited()) return;
      const jobs = await insertMany(5);
      const first = await claim({ queue: slow(3) });
      expect(ids(first.jobs)).toEqual(ids(jobs.slice(0, 3)));
      expect(ids(first.held)).toEqual(ids(jobs.slice(3)));
      expect(first.held.map((job) => [job.state, job.attempt])).toEqual([
        ['available', 0],
        ['available', 0],
      ]);
      expect(first.retryAt).not.toBeNull();
      expect(first.retryAt!.getTime()).toBeGreaterThan(BASE.getTime() + 1000 * SEC);
      const second = await claim({ queue: slow(3) });
      expect(second.jobs).toHaveLength(0);
      expect(ids(second.held)).toEqual(ids(jobs.slice(3)));
      const status = await limited()!.status('queues', 'default', slow(3), BASE);
      expect(status.capacity).toBe(3);
      expect(status.tokens < 0.01).toBe(true);
    });

    it('answers each claimed and held job as the store then reads it, fields and all', async () => {
      if (!limited()) return;
      const rich = { args: { to: 'a@b.c', n: [1, 2] }, tags: ['x', 'y'], meta: { source: 'test' }, priority: 2, maxAttempts: 5 };
      const inserted = (await suite.store.insert([newJob(rich), newJob(rich), newJob({ ...rich, tags: [] })])).map((r) => r.job);
      const { jobs, held } = await claim({ queue: slow(2) });
      expect(ids(jobs)).toEqual(ids(inserted.slice(0, 2)));
      expect(ids(held)).toEqual(ids(inserted.slice(2)));
      for (const job of [...jobs, ...held]) expect(job).toEqual(await suite.store.get(job.id));
      expect(jobs.map((job) => [job.state, job.attempt, job.node, job.tags, job.meta])).toEqual([
        ['running', 1, 'node-a', ['x', 'y'], { source: 'test' }],
        ['running', 1, 'node-a', ['x', 'y'], { source: 'test' }],
      ]);
    });

    it('the global bucket counts claims of every queue', async () => {
      if (!limited()) return;
      await insertMany(3, 'work', 'a');
      await insertMany(3, 'work', 'b');
      const a = await claim({ global: slow(4) }, { queue: 'a' });
      const b = await claim({ global: slow(4) }, { queue: 'b' });
      expect([a.jobs.length, b.jobs.length]).toEqual([3, 1]);
    });

    it("a name whose bucket is empty never holds back other names' jobs behind it", async () => {
      if (!limited()) return;
      const mail = await insertMany(3, 'mail');
      const work = await insertMany(2, 'work');
      const limits = { jobs: new Map([['mail', slow(1)]]) };
      const first = await claim(limits);
      expect(ids(first.jobs)).toEqual([mail[0]!.id, ...ids(work)]);
      expect(ids(first.held)).toEqual(ids(mail.slice(1)));
      await insertMany(1, 'work');
      const second = await claim(limits);
      expect(second.jobs.map((job) => job.name)).toEqual(['work']);
      expect(second.retryAt).not.toBeNull();
    });

    it('held jobs become claimable as the bucket refills, one per token', async () => {
      if (!limited()) return;
      await insertMany(5);
      const perSecond = { queue: { capacity: 2, refillPerSecond: 1 } };
      expect((await claim(perSecond)).jobs).toHaveLength(2);
      const held = await claim(perSecond, { now: BASE });
      expect(held.jobs).toHaveLength(0);
      let now = await suite.ageRateLimits(BASE, 1000);
      expect((await claim(perSecond, { now })).jobs).toHaveLength(1);
      now = await suite.ageRateLimits(now, 500);
      expect((await claim(perSecond, { now })).jobs).toHaveLength(0);
      now = await suite.ageRateLimits(now, 1600);
      expect((await claim(perSecond, { now })).jobs).toHaveLength(2);
    });

    it('claims at once never take more than the bucket holds', async () => {
      if (!limited()) return;
      await insertMany(30);
      const results = await Promise.all(Array.from({ length: 6 }, () => claim({ queue: slow(7) }, { limit: 5 })));
      const claimed = results.flatMap((r) => ids(r.jobs));
      expect(claimed).toHaveLength(7);
      expect(new Set(claimed).size).toBe(7);
    });

    it('a bucket no claim has used is full', async () => {
      if (!limited()) return;
      expect(await limited()!.status('jobs', 'never', { capacity: 9, refillPerSecond: 0.5 }, BASE)).toEqual({ tokens: 9, capacity: 9, refillPerSecond: 0.5 });
    });
  });
}
