import type { BreakerAdmission, BreakerChange, BreakerOutcome, BreakerRecord, BreakerSettings } from './circuit-breaker.types.js';

/*
 * The circuit breaker's state machine, pure: every function takes a record
 * and the time and returns the next record. The memory store runs it as is;
 * the PostgreSQL statements (lib/postgres/sql/breakers.sql.ts) are the same
 * rules in SQL, and the conformance suite holds both to them.
 *
 *   closed ──[failureThreshold failures in a row]──▶ open
 *   open ──[resetTimeout passed, a job asks]──▶ halfOpen (probe slots: successThreshold)
 *   halfOpen ──[successThreshold probes succeeded]──▶ closed
 *   halfOpen ──[a probe failed]──▶ open
 *
 * A half-open breaker's `nextProbeAt` is the deadline of its probes: probes
 * still unanswered then (their node died) are given up, so a lost probe
 * cannot keep the breaker half-open for ever.
 */

/**
 * A new breaker, closed.
 * @internal
 */
export function newBreaker(name: string, settings: BreakerSettings): BreakerRecord {
  return { name, ...settings, state: 'closed', failures: 0, successes: 0, probes: 0, openedAt: null, nextProbeAt: null, version: 0 };
}

/**
 * The record as a store saves it: its version one higher.
 * @internal
 */
export function saved(record: BreakerRecord): BreakerRecord {
  return { ...record, version: record.version + 1 };
}

/**
 * A record stored as JSON text (SQLite, Redis); one saved before records had a version reads as version 0.
 * @internal
 */
export function parseBreaker(text: string): BreakerRecord {
  return { version: 0, ...(JSON.parse(text) as Omit<BreakerRecord, 'version'>) };
}

/**
 * Whether a job may start at `now`.
 * @internal
 */
export function admit(r: BreakerRecord, now: number): BreakerAdmission {
  if (r.state === 'closed') return { record: r, from: r.state, verdict: 'run' };
  const due = now >= (r.nextProbeAt ?? 0);
  if (r.state === 'open' && !due) return { record: r, from: r.state, verdict: 'hold' };
  const next: BreakerRecord = due
    ? { ...r, state: 'halfOpen', probes: 0, successes: r.state === 'open' ? 0 : r.successes, nextProbeAt: now + r.resetTimeout }
    : { ...r };
  if (next.probes + next.successes < next.successThreshold) {
    next.probes++;
    return { record: next, from: r.state, verdict: 'probe' };
  }
  return { record: next, from: r.state, verdict: 'hold' };
}

/**
 * Records how an attempt ended. Outcomes of attempts let through before the
 * breaker opened (not probes) change nothing while it is open or half-open.
 * @internal
 */
export function settle(r: BreakerRecord, outcome: BreakerOutcome, probe: boolean, now: number): BreakerChange {
  const from = r.state;
  if (r.state === 'closed') {
    if (outcome === 'success' && r.failures > 0) return { record: { ...r, failures: 0 }, from };
    if (outcome !== 'failure') return { record: r, from };
    const failures = r.failures + 1;
    return { record: failures >= r.failureThreshold ? opened(r, failures, now) : { ...r, failures }, from };
  }
  if (r.state === 'open' || !probe) return { record: r, from };
  const probes = Math.max(0, r.probes - 1);
  if (outcome === 'failure') return { record: opened(r, r.failures + 1, now), from };
  if (outcome === 'abandon') return { record: { ...r, probes }, from };
  const successes = r.successes + 1;
  return { record: successes >= r.successThreshold ? closed(r) : { ...r, probes, successes }, from };
}

/**
 * Closes a breaker whatever its state.
 * @internal
 */
export function reset(r: BreakerRecord): BreakerChange {
  return { record: closed(r), from: r.state };
}

function opened(r: BreakerRecord, failures: number, now: number): BreakerRecord {
  return { ...r, state: 'open', failures, successes: 0, probes: 0, openedAt: now, nextProbeAt: now + r.resetTimeout };
}

function closed(r: BreakerRecord): BreakerRecord {
  return { ...r, state: 'closed', failures: 0, successes: 0, probes: 0, openedAt: null, nextProbeAt: null };
}
