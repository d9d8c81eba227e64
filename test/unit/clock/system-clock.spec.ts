import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SystemClock } from '../../../lib/index.js';

const busy = (ms: number): void => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Work in the same turn of the event loop makes Node's cached loop time stale.
  }
};

describe('SystemClock', () => {
  it('never runs a callback before its time, even when set from a busy turn of the event loop', async () => {
    const clock = new SystemClock();
    const early: number[] = [];
    for (let round = 0; round < 20; round++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      busy(2);
      const due = Date.now() + 4;
      await new Promise<void>((resolve) =>
        clock.setTimeout(() => {
          if (Date.now() < due) early.push(due - Date.now());
          resolve();
        }, 4),
      );
    }
    expect(early).toEqual([]);
  });

  it('cancels a timer, and ignores unknown handles', async () => {
    const clock = new SystemClock();
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 2);
    clock.clearTimeout(handle);
    clock.clearTimeout(handle);
    clock.clearTimeout(undefined);
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect(fired).toBe(false);
  });

  it('does not fire at once for delays past what Node timers hold (2^31 - 1 ms)', async () => {
    const clock = new SystemClock();
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 2 ** 31 + 10_000);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fired).toBe(false);
    clock.clearTimeout(handle);
  });
});

describe('SystemClock when the wall clock steps', () => {
  afterEach(() => vi.restoreAllMocks());

  // Only Date.now() is stepped: Node's timers and the monotonic clock go on.
  const stepWallClock = (byMs: number): void => {
    const real = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => real() + byMs);
  };

  for (const precise of [false, true]) {
    it(`fires a ${precise ? 'precise' : 'plain'} timer after its delay though the wall clock stepped back an hour meanwhile`, async () => {
      const clock = new SystemClock();
      const started = performance.now();
      const fired = new Promise<number>((resolve) => clock.setTimeout(() => resolve(performance.now() - started), 50, { precise }));
      stepWallClock(-3_600_000);
      const waited = await Promise.race([fired, new Promise<null>((resolve) => setTimeout(() => resolve(null), 1_000))]);
      expect(waited).not.toBeNull();
      expect(waited).toBeGreaterThanOrEqual(50);
    });
  }
});

describe('SystemClock precise timers', () => {
  it('run at their time, not before, and can be cancelled while they spin out the last milliseconds', async () => {
    const clock = new SystemClock();
    const early: number[] = [];
    for (let round = 0; round < 10; round++) {
      const due = Date.now() + 5;
      await new Promise<void>((resolve) =>
        clock.setTimeout(
          () => {
            if (Date.now() < due) early.push(due - Date.now());
            resolve();
          },
          5,
          { precise: true },
        ),
      );
    }
    expect(early).toEqual([]);
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 1, { precise: true });
    clock.clearTimeout(handle);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fired).toBe(false);
  });
});
