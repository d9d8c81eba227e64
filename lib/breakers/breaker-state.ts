import type { BreakerRecord, CircuitBreakerState } from './circuit-breaker.types.js';

/**
 * A stored breaker as the API reports it.
 * @internal
 */
export function toBreakerState(record: BreakerRecord): CircuitBreakerState {
  return {
    name: record.name,
    state: record.state,
    failures: record.failures,
    openedAt: record.openedAt === null ? null : new Date(record.openedAt),
    nextProbeAt: record.nextProbeAt === null ? null : new Date(record.nextProbeAt),
  };
}
