import type { ScheduleSpec } from '../schedule/schedule-spec.js';
import type { ResolvedJobOptions } from '../scheduler.registry.js';

/**
 * A tick to insert: its time, and whether it was planned late.
 * @internal
 */
export interface PlannedTick {
  at: number;
  misfired: boolean;
}

/**
 * Most ticks one planning round inserts for one schedule (a long outage with `catchUp` is cut here).
 * @internal
 */
export const MAX_TICKS_PER_ROUND = 1_000;

/**
 * Which ticks of `spec` in (`plannedUntil`, `now`] to insert. Ticks later
 * than `now - threshold` are on time (they run late, not misfired); earlier
 * ones follow the misfire policy:
 * - `runOnce`: one run for them all: the latest missed tick, or, when an
 *   on-time tick exists, that tick flagged as misfired.
 * - `skip`: none.
 * - `catchUp`: each missed tick within the window, flagged as misfired.
 * Pure: no I/O, no clock.
 * @internal
 */
export function ticksToPlan(spec: ScheduleSpec, plannedUntil: number, now: number, threshold: number, misfire: ResolvedJobOptions['misfire']): PlannedTick[] {
  const onTime: PlannedTick[] = [];
  for (let t = spec.next(Math.max(plannedUntil, now - threshold)); t !== null && t <= now; t = spec.next(t)) {
    onTime.push({ at: t, misfired: false });
    if (onTime.length >= MAX_TICKS_PER_ROUND) break;
  }
  const lateEdge = now - threshold;
  if (plannedUntil >= lateEdge) return onTime;
  const latestMissed = spec.prev(lateEdge);
  if (latestMissed === null || latestMissed <= plannedUntil) return onTime;
  if (misfire === 'skip') return onTime;
  if (misfire === 'runOnce') {
    if (onTime.length > 0) {
      onTime[0] = { at: onTime[0]!.at, misfired: true };
      return onTime;
    }
    return [{ at: latestMissed, misfired: true }];
  }
  const missed: PlannedTick[] = [];
  const budget = MAX_TICKS_PER_ROUND - onTime.length;
  for (let t = spec.next(Math.max(plannedUntil, now - misfire.catchUp)); t !== null && t <= lateEdge; t = spec.next(t)) {
    missed.push({ at: t, misfired: true });
    if (missed.length >= budget) break;
  }
  return [...missed, ...onTime];
}
