import { expect } from 'vitest';
import type { CircuitBreakerStore } from '../../lib/breakers/circuit-breaker.types.js';

/** A breaker as a release before versions stored it (SQLite and Redis keep the record as JSON text). */
export const OLD_BREAKER = JSON.stringify({
  name: 'api',
  failureThreshold: 3,
  successThreshold: 1,
  resetTimeout: 30_000,
  state: 'closed',
  failures: 1,
  successes: 0,
  probes: 0,
  openedAt: null,
  nextProbeAt: null,
});
const NOW = new Date('2026-12-07T00:00:00Z');

/** The breaker stored as {@link OLD_BREAKER} reads as version 0, and its next change makes it version 1. */
export async function readsAsVersionZero(breakers: CircuitBreakerStore): Promise<void> {
  expect(await breakers.list()).toEqual([expect.objectContaining({ name: 'api', failures: 1, version: 0 })]);
  expect((await breakers.record('api', 'failure', false, NOW))!.record).toMatchObject({ failures: 2, version: 1 });
  expect((await breakers.list())[0]).toMatchObject({ failures: 2, version: 1 });
}
