import { describe, expect, it } from 'vitest';
import { SchedulerConfigError } from '../../../lib/index.js';
import { FakeClock } from '../../../lib/testing/index.js';
import { resolveRateLimit, resolveRateLimits } from '../../../lib/rate-limit/rate-limit.options.js';
import { RateLimitPlan } from '../../../lib/rate-limit/rate-limit.plan.js';
import { nextTokenAt, TokenBucket } from '../../../lib/rate-limit/token-bucket.js';

const fail = (option: string, detail: string): never => {
  throw new SchedulerConfigError('test', option, detail);
};

describe('TokenBucket', () => {
  const clock = new FakeClock(new Date('2026-01-01T00:00:00Z'));
  const tenPerSecond = () => new TokenBucket({ capacity: 10, refillPerSecond: 10 }, clock.now());

  it('starts full and gives at most the whole tokens it holds', () => {
    const bucket = tenPerSecond();
    expect(bucket.take(4, clock.now())).toBe(4);
    expect(bucket.take(10, clock.now())).toBe(6);
    expect(bucket.take(1, clock.now())).toBe(0);
    expect(bucket.status(clock.now())).toEqual({ tokens: 0, capacity: 10, refillPerSecond: 10 });
  });

  it('refills continuously, a fraction at a time, never past its capacity', async () => {
    const bucket = tenPerSecond();
    bucket.take(10, clock.now());
    await clock.advance(250);
    expect(bucket.available(clock.now())).toBeCloseTo(2.5);
    expect(bucket.whole(clock.now())).toBe(2);
    expect(bucket.take(5, clock.now())).toBe(2);
    await clock.advance('1h');
    expect(bucket.available(clock.now())).toBe(10);
  });

  it('says when its next whole token is due', async () => {
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 0.5 }, clock.now());
    expect(bucket.nextTokenAt(clock.now())).toBe(clock.now());
    bucket.take(3, clock.now());
    expect(bucket.nextTokenAt(clock.now())).toBe(clock.now() + 2000);
    await clock.advance(1500);
    expect(bucket.nextTokenAt(clock.now())).toBe(clock.now() + 500);
    expect(nextTokenAt({ capacity: 1, refillPerSecond: 4 }, 0.5, 1000)).toBe(1125);
  });

  it('refills nothing for a time behind the last one it saw', async () => {
    const bucket = tenPerSecond();
    await clock.advance(1000);
    bucket.take(10, clock.now());
    expect(bucket.take(1, clock.now() - 500)).toBe(0);
    expect(bucket.available(clock.now())).toBe(0);
  });

  it('a new shape keeps the tokens held, up to the new capacity', () => {
    const bucket = tenPerSecond();
    bucket.take(2, clock.now());
    bucket.reshape({ capacity: 5, refillPerSecond: 1 }, clock.now());
    expect(bucket.status(clock.now())).toEqual({ tokens: 5, capacity: 5, refillPerSecond: 1 });
  });
});

describe('rate limit options', () => {
  it('turns { limit, per } into a capacity and a refill per second', () => {
    expect(resolveRateLimit('x', { limit: 100, per: '1m' }, fail)).toEqual({ capacity: 100, refillPerSecond: 100 / 60 });
    expect(resolveRateLimit('x', { limit: 20, per: 1000 }, fail)).toEqual({ capacity: 20, refillPerSecond: 20 });
  });

  it.each([
    [{ limit: 0, per: '1s' }, 'x.limit'],
    [{ limit: 2_000_000, per: '1s' }, 'x.limit'],
    [{ limit: 1 }, 'x.per'],
    [{ limit: 1, per: '31d' }, 'x.per'],
    [null, 'x'],
  ])('refuses %j', (value, option) => {
    expect(() => resolveRateLimit('x', value, fail)).toThrow(expect.objectContaining({ option }));
  });

  it('resolves the module option and refuses queues this node does not configure', () => {
    const resolved = resolveRateLimits(
      { queues: { a: { limit: 1, per: '1s' } }, jobs: { j: { limit: 2, per: '1s' } }, global: { limit: 3, per: '1s' } },
      new Set(['a']),
      fail,
    );
    expect(resolved.queues.get('a')).toEqual({ capacity: 1, refillPerSecond: 1 });
    expect(resolved.global).toEqual({ capacity: 3, refillPerSecond: 3 });
    expect(() => resolveRateLimits({ queues: { b: { limit: 1, per: '1s' } } }, new Set(['a']), fail)).toThrow(
      expect.objectContaining({ option: 'rateLimits.queues.b' }),
    );
    // A node that runs no jobs cannot know the queues of the others.
    expect(resolveRateLimits({ queues: { b: { limit: 1, per: '1s' } } }, null, fail).queues.size).toBe(1);
  });
});

describe('RateLimitPlan', () => {
  const job = (name: string, limit: number | null) => ({
    name,
    source: `Jobs.${name}`,
    options: { rateLimit: limit === null ? null : { capacity: limit, refillPerSecond: 1 } },
  });

  it('gives a queue no limits when no bucket applies, so its claims stay the plain ones', () => {
    const plan = new RateLimitPlan(resolveRateLimits({ queues: { a: { limit: 1, per: '1s' } } }, null, fail), [job('j', null)]);
    expect(plan.forQueue('b')).toBeNull();
    expect(plan.forQueue('a')).toEqual({ queue: { capacity: 1, refillPerSecond: 1 } });
  });

  it("applies a job's own limit and rateLimits.jobs on every queue, with the global bucket", () => {
    const plan = new RateLimitPlan(resolveRateLimits({ jobs: { m: { limit: 2, per: '1s' } }, global: { limit: 9, per: '1s' } }, null, fail), [job('j', 4)]);
    const limits = plan.forQueue('any')!;
    expect(limits.global).toEqual({ capacity: 9, refillPerSecond: 9 });
    expect([...limits.jobs!.keys()].sort()).toEqual(['j', 'm']);
    expect(plan.spec('jobs', 'j')).toEqual({ capacity: 4, refillPerSecond: 1 });
    expect(plan.spec('queues', 'any')).toBeUndefined();
  });

  it("refuses a job's own limit that rateLimits.jobs also sets", () => {
    expect(() => new RateLimitPlan(resolveRateLimits({ jobs: { j: { limit: 2, per: '1s' } } }, null, fail), [job('j', 4)])).toThrow(
      expect.objectContaining({ source: 'Jobs.j', option: 'rateLimit' }),
    );
  });
});
