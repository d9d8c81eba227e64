import { DEFAULT_UNIQUE_STATES, type JobState, type UniqueState } from './job.types.js';

/** One bit per unique state, the order PostgreSQL's `unique_keys.states` keeps them in. */
const BITS: Readonly<Record<UniqueState, number>> = { scheduled: 1, available: 2, running: 4, completed: 8 };

/**
 * The mask of `unique.states` as both stores keep it (1 scheduled, 2
 * available, 4 running, 8 completed); `null` or none is the default set.
 * @internal
 */
export function uniqueMask(states: readonly UniqueState[] | null | undefined): number {
  let mask = 0;
  for (const state of states ?? DEFAULT_UNIQUE_STATES) mask |= BITS[state];
  return mask;
}

/**
 * The bit of a holder's state at `now`: an available job not yet due is
 * `scheduled`; dead, discarded and cancelled jobs have none (they never block).
 * @internal
 */
export function holderBit(state: JobState, runAtMs: number, nowMs: number): number {
  if (state === 'available') return runAtMs > nowMs ? BITS.scheduled : BITS.available;
  if (state === 'running') return BITS.running;
  return state === 'completed' ? BITS.completed : 0;
}

/** Whether a mask keeps the key of a completed holder. @internal */
export function keepsCompleted(mask: number): boolean {
  return (mask & BITS.completed) !== 0;
}

/**
 * Checks a job's `uniqueStates` and `uniquePeriod` as a store keeps them.
 * @throws the error `fail` throws
 * @internal
 */
export function checkUniqueSpec(states: unknown, period: unknown, fail: (argument: string, detail: string) => never): void {
  if (states !== null && states !== undefined) {
    if (!Array.isArray(states) || states.length === 0 || states.some((s) => typeof s !== 'string' || !Object.hasOwn(BITS, s))) {
      fail('uniqueStates', `must be a non-empty array of ${Object.keys(BITS).join(', ')}`);
    }
  }
  if (period !== null && period !== undefined && (!Number.isSafeInteger(period) || (period as number) <= 0)) {
    fail('uniquePeriod', 'must be a positive integer of milliseconds');
  }
}
