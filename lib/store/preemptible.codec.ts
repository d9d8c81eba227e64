import type { Preemptible } from './job.types.js';

/**
 * A job's `preemptible` as a store keeps it: text (`false` as `'never'`, so
 * one text column or hash field holds every value), `null` when unset.
 * @internal
 */
export function encodePreemptible(value: Preemptible | null | undefined): string | null {
  return value === undefined || value === null ? null : value === false ? 'never' : value;
}

/**
 * The stored text back as a job's `preemptible` (unknown text, from a newer
 * release, reads as unset: the handler's option applies).
 * @internal
 */
export function decodePreemptible(text: string | null | undefined): Preemptible | null {
  return text === 'suspend' || text === 'requeue' ? text : text === 'never' ? false : null;
}
