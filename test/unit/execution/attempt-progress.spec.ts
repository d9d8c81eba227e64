import { describe, expect, it } from 'vitest';
import { AttemptProgress, checkProgress, PROGRESS_WRITE_INTERVAL } from '../../../lib/execution/attempt.progress.js';
import { InvalidArgumentError } from '../../../lib/scheduler.errors.js';
import type { AttemptRef } from '../../../lib/store/job-store.js';
import { MAX_PROGRESS_BYTES, type JobProgress } from '../../../lib/store/job.types.js';
import { FakeClock } from '../../../lib/testing/fake.clock.js';

/** A writer over a store that records each write and answers `held` (or fails while `down`). */
function setup(options: { held?: boolean } = {}) {
  const clock = new FakeClock();
  const writes: { at: number; progress: JobProgress }[] = [];
  const state = { held: options.held ?? true, down: false, slow: false, lost: 0, failed: 0 };
  let release: (() => void) | null = null;
  const store = {
    saveProgress: async (_ref: AttemptRef, progress: JobProgress) => {
      if (state.down) throw new Error('store down');
      writes.push({ at: clock.now(), progress });
      if (state.slow) await new Promise<void>((resolve) => (release = resolve));
      return state.held;
    },
  };
  const writer = new AttemptProgress({ store, clock, lost: () => state.lost++, failed: () => state.failed++ }, { id: '1', attempt: 1 });
  return { clock, writes, state, writer, release: () => release?.() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('checkProgress', () => {
  it('takes a number from 0 to 100 and a plain JSON object (a copy, text made storable)', () => {
    expect(checkProgress(0)).toBe(0);
    expect(checkProgress(42.5)).toBe(42.5);
    expect(checkProgress(100)).toBe(100);
    const value = { done: 3, of: 7, note: 'a\u0000b' };
    const kept = checkProgress(value);
    expect(kept).toEqual({ done: 3, of: 7, note: 'a\uFFFDb' });
    expect(kept).not.toBe(value);
    expect(checkProgress(Object.assign(Object.create(null), { a: 1 }))).toEqual({ a: 1 });
  });

  it('refuses anything else with an InvalidArgumentError', () => {
    for (const bad of [-1, 100.5, Number.NaN, Infinity, '50', [1, 2], null, undefined, true, new Date(), new Map()]) {
      expect(() => checkProgress(bad), String(bad)).toThrow(InvalidArgumentError);
    }
    expect(() => checkProgress({ big: 'x'.repeat(MAX_PROGRESS_BYTES) })).toThrow(/over the 2048-byte limit/);
    expect(() => checkProgress({ n: 1n })).toThrow(/is not JSON/);
  });
});

describe('AttemptProgress', () => {
  it('writes the first report at once, then at most one a second, always the latest', async () => {
    const { clock, writes, writer } = setup();
    for (let i = 1; i <= 50; i++) writer.report(i);
    await settle();
    expect(writes).toEqual([{ at: clock.now(), progress: 1 }]);
    const start = clock.now();
    await clock.advance(PROGRESS_WRITE_INTERVAL - 1);
    expect(writes).toHaveLength(1);
    await clock.advance(1);
    await settle();
    expect(writes).toEqual([
      { at: start, progress: 1 },
      { at: start + PROGRESS_WRITE_INTERVAL, progress: 50 },
    ]);
    // Nothing new reported: no further write.
    await clock.advance(5 * PROGRESS_WRITE_INTERVAL);
    expect(writes).toHaveLength(2);
    // A report after a quiet spell is written at once.
    writer.report(75);
    await settle();
    expect(writes.at(-1)).toEqual({ at: clock.now(), progress: 75 });
  });

  it('flush writes the pending report without waiting for the interval, after a write in flight, and ignores later reports', async () => {
    const { clock, writes, writer, state, release } = setup();
    state.slow = true;
    writer.report(10);
    writer.report(20);
    await settle();
    expect(writes.map((w) => w.progress)).toEqual([10]);
    const flushed = writer.flush();
    await settle();
    expect(writes).toHaveLength(1);
    state.slow = false;
    release();
    await flushed;
    expect(writes.map((w) => w.progress)).toEqual([10, 20]);
    expect(clock.pendingTimers).toBe(0);
    writer.report(30);
    await clock.advance(10 * PROGRESS_WRITE_INTERVAL);
    expect(writes.map((w) => w.progress)).toEqual([10, 20]);
  });

  it('a refused write reports the attempt lost; a failed write is reported and the next report tries again', async () => {
    const lost = setup({ held: false });
    lost.writer.report(5);
    await settle();
    expect(lost.state.lost).toBe(1);

    const { clock, writes, writer, state } = setup();
    state.down = true;
    writer.report(1);
    await settle();
    expect(state.failed).toBe(1);
    state.down = false;
    writer.report(2);
    await clock.advance(PROGRESS_WRITE_INTERVAL);
    await settle();
    expect(writes.map((w) => w.progress)).toEqual([2]);
  });
});
