import { DiscardJobError } from '../scheduler.errors.js';

/**
 * Whether a failed attempt's error counts against its circuit breaker.
 * `tripsCircuit` on the error decides when it is a boolean. Otherwise
 * everything counts but what says the fault is the job's, not the
 * service's (seed 003's `trips_circuit?` is false for those): a `terminal`
 * error (`errorClass` on the error, or `errorClass` as the classifier found
 * it: 400/401/403/404/422, validation) and `DiscardJobError`.
 * @internal
 */
export function tripsCircuit(error: unknown, errorClass?: string): boolean {
  if (typeof error === 'object' && error !== null) {
    const own = (error as { tripsCircuit?: unknown }).tripsCircuit;
    if (own === true || own === false) return own;
    if (error instanceof DiscardJobError) return false;
    const verdict = (error as { errorClass?: unknown }).errorClass;
    if (verdict === 'terminal') return false;
  }
  return errorClass !== 'terminal';
}
