import { describe, expect, it } from 'vitest';
import { judgeDeaths, judgeLag, judgeLeader, judgeLoop, judgePing, judgeStuck, worst } from '../../../lib/health/health.checks.js';
import { TtlCache, withinMs } from '../../../lib/health/ttl.cache.js';
import { QueueStatsReader } from '../../../lib/health/queue-stats.reader.js';
import { FakeClock, flushPromises } from '../../../lib/testing/index.js';

describe('health verdicts at their boundaries', () => {
  it('worst: down over degraded over up', () => {
    expect(worst('up', 'degraded')).toBe('degraded');
    expect(worst('down', 'degraded')).toBe('down');
    expect(worst('up', 'up')).toBe('up');
  });

  it('loop: up at maxStallMs, down past it, never stalled when idle', () => {
    expect(judgeLoop(null, 10_000, 3_000).status).toBe('up');
    expect(judgeLoop(7_000, 10_000, 3_000).status).toBe('up');
    expect(judgeLoop(6_999, 10_000, 3_000)).toMatchObject({ status: 'down', stalledMs: 3_001 });
  });

  it('store: degraded past slowMs, down on an error', () => {
    expect(judgePing({ ms: 250 }, 250).status).toBe('up');
    expect(judgePing({ ms: 251 }, 250).status).toBe('degraded');
    expect(judgePing({ error: 'refused' }, 250)).toEqual({ status: 'down', message: 'refused' });
  });

  it('leader: degraded within the grace, down from it', () => {
    expect(judgeLeader('a', null, 0, 1_000)).toEqual({ status: 'up', leader: 'a' });
    expect(judgeLeader(null, 0, 999, 1_000).status).toBe('degraded');
    expect(judgeLeader(null, 0, 1_000, 1_000).status).toBe('down');
  });

  it('lag: says when no live node runs the queue that lags (the registry shows it), and nothing when it cannot tell', () => {
    const lag = (runners?: number) => ({ queue: 'mail', lagMs: 90_000, available: 3, paused: false, ...(runners === undefined ? {} : { runners }) });
    expect(judgeLag([lag(0)], 60_000, 300_000).message).toBe('queue mail: the oldest due job has waited 90000 ms; no live node runs this queue');
    expect(judgeLag([lag(2)], 60_000, 300_000).message).toBe('queue mail: the oldest due job has waited 90000 ms');
    expect(judgeLag([lag()], 60_000, 300_000).message).toBe('queue mail: the oldest due job has waited 90000 ms');
  });

  it('lag: degraded from warnMs, down from failMs; paused and unlisted queues are reported, not judged', () => {
    const lag = (queue: string, lagMs: number, paused = false) => ({ queue, lagMs, available: 1, paused });
    expect(judgeLag([lag('a', 59_999)], 60_000, 300_000).status).toBe('up');
    expect(judgeLag([lag('a', 60_000)], 60_000, 300_000).status).toBe('degraded');
    expect(judgeLag([lag('a', 300_000)], 60_000, 300_000).status).toBe('down');
    expect(judgeLag([lag('a', 400_000, true)], 60_000, 300_000)).toMatchObject({ status: 'up', queues: { a: 400_000 } });
    expect(judgeLag([lag('a', 400_000), lag('b', 0)], 60_000, 300_000, ['b'])).toEqual({ status: 'up', lagMs: 0, queues: { b: 0 } });
  });

  it('stuck and dead letters: any is degraded, more than the maximum down', () => {
    expect(judgeStuck([], 1).status).toBe('up');
    expect(judgeStuck(['1'], 1).status).toBe('degraded');
    expect(judgeStuck(['1', '2'], 1).status).toBe('down');
    expect(judgeDeaths([0], 1_000, 1_000, 1).status).toBe('up');
    expect(judgeDeaths([1], 1_000, 1_000, 1).status).toBe('degraded');
    expect(judgeDeaths([1, 2], 1_000, 1_000, 1)).toMatchObject({ status: 'down', message: 'more than 1 job(s) died in the last 1000 ms' });
  });
});

describe('TtlCache', () => {
  it('shares a read under way, keeps its value for the ttl, and forgets a failed read', async () => {
    const clock = new FakeClock(0);
    const cache = new TtlCache(clock);
    let reads = 0;
    let answer: (value: number) => void = () => undefined;
    const read = () => {
      reads++;
      return new Promise<number>((resolve) => (answer = resolve));
    };
    const first = cache.get('k', 1_000, read);
    const second = cache.get('k', 1_000, read);
    expect(await cache.peek('k')).toBeUndefined();
    answer(7);
    expect([await first, await second, reads]).toEqual([7, 7, 1]);
    expect(await cache.peek('k')).toBe(7);
    await clock.advance(999);
    expect(await cache.get('k', 1_000, read)).toBe(7);
    await clock.advance(1);
    const third = cache.get('k', 1_000, read);
    answer(8);
    expect([await third, reads]).toEqual([8, 2]);
    await clock.advance(1_000);
    await expect(cache.get('k', 1_000, () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('k', 1_000, async () => 9)).toBe(9);
  });

  it('QueueStatsReader: one read serves callers of different max ages, and lists known queues with zeros', async () => {
    const clock = new FakeClock(10_000);
    let reads = 0;
    const reader = new QueueStatsReader({
      clock,
      knownQueues: () => ['mail'],
      store: {
        queueCounts: async () => {
          reads++;
          return [{ queue: 'default', available: 2, scheduled: 1, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 }];
        },
        getQueueStates: async () => [{ name: 'paused-one', paused: true, concurrency: null }],
        nextRunAt: async (queue) => (queue === 'default' ? new Date(7_500) : null),
      },
    });
    expect(await reader.last()).toBeUndefined();
    const first = await reader.read(5_000); // the health checks' age
    expect(first.map((r) => r.lag)).toEqual([
      { queue: 'default', lagMs: 2_500, available: 2, paused: false },
      { queue: 'mail', lagMs: 0, available: 0, paused: false },
      { queue: 'paused-one', lagMs: 0, available: 0, paused: true },
    ]);
    expect(first[1]!.counts).toEqual({ queue: 'mail', available: 0, scheduled: 0, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 });
    await clock.advance(4_000);
    expect(await reader.read(15_000)).toBe(first); // the metrics' age: 4 s old is fine
    expect(await reader.read(5_000)).toBe(first);
    await clock.advance(1_000);
    expect(await reader.read(15_000)).toBe(first);
    await reader.read(5_000); // 5 s old is too old for a probe
    expect(reads).toBe(2);
    expect(await reader.last()).not.toBe(first);
  });

  it('withinMs rejects on the clock when the work does not answer', async () => {
    const clock = new FakeClock(0);
    const hung = withinMs(new Promise<never>(() => undefined), 100, clock, 'the ping');
    let settled = false;
    hung.catch(() => (settled = true));
    await clock.advance(99);
    await flushPromises();
    expect(settled).toBe(false);
    await clock.advance(1);
    await expect(hung).rejects.toThrow('the ping did not answer within 100 ms');
    expect(clock.pendingTimers).toBe(0);
    await expect(withinMs(Promise.resolve(1), 100, clock, 'x')).resolves.toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });
});
