/**
 * The latest instant a `Date` holds, in ms since the epoch (and minus it the earliest).
 * @internal
 */
export const MAX_DATE_MS = 8.64e15;

/**
 * `value` as ms since the epoch when it is a time: a valid `Date`, or a
 * finite number within a `Date`'s range; otherwise `null`.
 * @internal
 */
export function epochMs(value: unknown): number | null {
  const ms = value instanceof Date ? value.getTime() : value;
  return typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? ms : null;
}
