import type { ScheduleSpec } from '../schedule-spec.js';

/** Longest jitter: each planning call looks at the ticks within it. @internal */
export const MAX_JITTER_MS = 3_600_000;

/** A pseudo-random offset in [0, range) that depends only on the tick (the same on every node). */
function offset(tick: number, range: number): number {
  let h = Math.imul((tick / 1000) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.floor(tick / 2 ** 32);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % range;
}

/**
 * Delays each tick by its offset; `next`/`prev` look at every nominal tick
 * whose delayed time could be the answer, so the order of runs stays right
 * even when the jitter is longer than the gap between ticks.
 * @internal
 */
export function withJitter(spec: ScheduleSpec, range: number, fail: (o: string, d: string) => never): ScheduleSpec {
  if (!Number.isInteger(range) || range < 0 || range > MAX_JITTER_MS) fail('jitter', `expected 0 to ${MAX_JITTER_MS} ms, got ${range}`);
  const shifted = (n: number) => n + offset(n, range);
  return {
    ...spec,
    next(after) {
      const first = spec.next(after);
      if (first === null) return null;
      let best = Infinity;
      for (let n = spec.next(after - range); n !== null && n <= first + range; n = spec.next(n)) {
        const t = shifted(n);
        if (t > after && t < best) best = t;
      }
      return best;
    },
    prev(atOrBefore) {
      let q = spec.prev(atOrBefore);
      while (q !== null && shifted(q) > atOrBefore) q = spec.prev(q - 1);
      if (q === null) return null;
      let best = shifted(q);
      for (let n = spec.next(q - range - 1); n !== null && n <= atOrBefore; n = spec.next(n)) {
        const t = shifted(n);
        if (t <= atOrBefore && t > best) best = t;
      }
      return best;
    },
  };
}
