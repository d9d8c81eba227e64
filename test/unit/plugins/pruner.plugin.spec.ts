import { describe, expect, it } from 'vitest';
import { SchedulerLoop } from '../../../lib/planner/scheduler.loop.js';
import { PrunerPlugin, type PrunerPorts } from '../../../lib/plugins/pruner.plugin.js';
import { FakeClock } from '../../../lib/testing/index.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

/**
 * The pruner on the loop and a fake clock, over a store of `finished` expired
 * jobs, `dead` expired dead letters and `runs` finished runs that deletes up
 * to the limit a call; each prune statement takes `cost` ms (100 unless
 * given) of the pruner's own clock (time the fake clock does not see move),
 * and moves the scheduler's time it reads by `jump` ms more (a clock set or
 * synced meanwhile), which its monotonic clock does not see.
 */
function setup(backlog: { finished: number; dead?: number; runs?: number }, batch = 10, cost = 100, jump = 0) {
  const clock = new FakeClock(T0);
  let spent = 0;
  let jumped = 0;
  const left = { finished: backlog.finished, dead: backlog.dead ?? 0, runs: backlog.runs ?? 0 };
  const rounds: number[] = [];
  const take = (kind: keyof typeof left, limit: number) => {
    const n = Math.min(limit, left[kind]);
    left[kind] -= n;
    return n;
  };
  const store: PrunerPorts['store'] = {
    async prune(_states, _before, limit) {
      rounds.push(clock.now() - T0);
      spent += cost;
      jumped += jump;
      return take('finished', limit);
    },
    pruneDead: async ({ limit }) => take('dead', limit),
    deleteRuns: async (_before, limit) => take('runs', limit),
  };
  const pruner = new PrunerPlugin({
    store,
    events: { emit: () => undefined },
    isLeader: () => true,
    now: () => clock.now() + spent + jumped,
    elapsed: () => clock.now() + spent,
    interval: MIN,
    keepCompleted: MIN,
    deadLetters: { maxAge: MIN, maxEntries: null },
    batch,
  });
  const loop = new SchedulerLoop(clock);
  for (const task of pruner.tasks()) loop.add(task);
  loop.start();
  return { clock, left, rounds, loop };
}

describe('PrunerPlugin', () => {
  it('deletes one batch a round, and waits for the interval when it filled none', async () => {
    const { clock, left, rounds, loop } = setup({ finished: 7 });
    await clock.advance(MIN - 1);
    expect(rounds).toEqual([]);
    await clock.advance(1);
    expect(rounds).toEqual([MIN]);
    expect(left.finished).toBe(0);
    await clock.advance(MIN - 1);
    expect(rounds).toEqual([MIN]);
    await clock.advance(1);
    expect(rounds).toEqual([MIN, 2 * MIN]);
    await loop.stop();
  });

  it('works off a backlog in rounds a pause apart as long as each took, not one batch an interval', async () => {
    const { clock, left, rounds, loop } = setup({ finished: 35 });
    await clock.advance(MIN);
    expect(rounds).toEqual([MIN]);
    // A round took 100 ms: the next follows 100 ms after it ended.
    await clock.advance(199);
    expect(rounds).toEqual([MIN]);
    await clock.advance(1);
    expect(rounds).toEqual([MIN, MIN + 200]);
    await clock.advance(400);
    // Four rounds for 35 jobs: the last filled no batch, so the next waits for the interval.
    expect(rounds).toEqual([MIN, MIN + 200, MIN + 400, MIN + 600]);
    expect(left.finished).toBe(0);
    await clock.advance(MIN - 1);
    expect(rounds).toHaveLength(4);
    await clock.advance(1);
    expect(rounds.at(-1)).toBe(MIN + 600 + MIN);
    await loop.stop();
  });

  it('after a slow round that left nothing over (a large history walked for little), waits 100 times as long as it took', async () => {
    // 3 s to find 5 jobs: the next round 300 s after this one's start, not one interval.
    const { clock, left, rounds, loop } = setup({ finished: 5 }, 10, 3_000);
    await clock.advance(MIN);
    expect(rounds).toEqual([MIN]);
    expect(left.finished).toBe(0);
    await clock.advance(300_000 - 1);
    expect(rounds).toEqual([MIN]);
    await clock.advance(1);
    expect(rounds).toEqual([MIN, MIN + 300_000]);
    await loop.stop();
  });

  it('stretches that pause to an hour at most (a round slow for a reason of its own must not stop pruning for a day)', async () => {
    const { clock, rounds, loop } = setup({ finished: 5 }, 10, 10 * MIN);
    await clock.advance(MIN);
    await clock.advance(60 * MIN - 1);
    expect(rounds).toEqual([MIN]);
    await clock.advance(1);
    expect(rounds).toEqual([MIN, 61 * MIN]);
    await loop.stop();
  });

  it('measures that slowness by a monotonic clock: the scheduler clock moved during a round does not stretch the pause', async () => {
    const { clock, rounds, loop } = setup({ finished: 5 }, 10, 100, 10 * MIN);
    await clock.advance(2 * MIN);
    expect(rounds).toEqual([MIN, 2 * MIN]);
    await loop.stop();
  });

  it('a slow round that filled its batch is followed after a pause as long as it took, at most the interval', async () => {
    const { clock, rounds, loop } = setup({ finished: 25 }, 10, 40_000);
    await clock.advance(MIN);
    // 40 s a round: twice that is past the interval, so the interval it is.
    await clock.advance(MIN - 1);
    expect(rounds).toEqual([MIN]);
    await clock.advance(1);
    expect(rounds).toEqual([MIN, 2 * MIN]);
    await loop.stop();
  });

  it('a backlog of dead letters or workflow runs also brings the next round forward', async () => {
    for (const backlog of [
      { finished: 0, dead: 25 },
      { finished: 0, runs: 25 },
    ]) {
      const { clock, left, rounds, loop } = setup(backlog);
      await clock.advance(MIN + 1_000);
      expect(rounds.length).toBeGreaterThanOrEqual(3);
      expect(left).toEqual({ finished: 0, dead: 0, runs: 0 });
      await loop.stop();
    }
  });
});
