import type { BreakerOutcome, BreakerSettings } from '../../breakers/circuit-breaker.types.js';
import type { SqlNames } from './names.js';
import { movedColumns, sideTables } from './side-tables.sql.js';
import type { Statement } from './statement.js';

/**
 * Circuit breakers (migration 9): each change is one statement that locks
 * the breaker's row (`cur … FOR UPDATE`), computes the next state from it
 * with the rules of lib/breakers/breaker.machine.ts, writes it, and answers
 * the new row with the state it had (`was`), so two nodes changing one
 * breaker at once are serialised and each sees the other's change. Each
 * raises the row's `version` (migration 16), by which a node orders the
 * copies it is answered.
 * @internal
 */
export function breakerStatements(n: SqlNames) {
  const side = sideTables(n);
  const ms = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;
  const columns = (b: string) =>
    `${b}.name, ${b}.state, ${b}.failures, ${b}.successes, ${b}.probes, ${ms(`${b}.opened_at`)} AS opened_at, ${ms(`${b}.next_probe_at`)} AS next_probe_at,
     ${b}.failure_threshold, ${b}.success_threshold, ${b}.reset_timeout_ms::float8 AS reset_timeout_ms, ${b}.version::float8 AS version`;
  const timeout = (c: string) => `${c}.reset_timeout_ms * interval '1 millisecond'`;

  const define = `
    INSERT INTO ${n.breakers} AS b (name, failure_threshold, success_threshold, reset_timeout_ms, version) VALUES ($1, $2, $3, $4, 1)
    ON CONFLICT (name) DO UPDATE SET failure_threshold = EXCLUDED.failure_threshold,
      success_threshold = EXCLUDED.success_threshold, reset_timeout_ms = EXCLUDED.reset_timeout_ms, version = b.version + 1
    RETURNING ${columns('b')}`;
  const list = `SELECT ${columns('b')} FROM ${n.breakers} b ORDER BY b.name`;

  // Past its time an open breaker turns half-open with fresh probe slots; a
  // half-open one gives up probes unanswered by their deadline. Then a slot is
  // taken when one is free.
  const due = `(c.state <> 'closed' AND $2::timestamptz >= c.next_probe_at)`;
  const acquire = `
    WITH cur AS (SELECT * FROM ${n.breakers} WHERE name = $1 FOR UPDATE),
    s AS (
      SELECT c.name, c.state AS was, c.success_threshold,
        CASE WHEN ${due} THEN 'halfOpen' ELSE c.state END AS st,
        CASE WHEN ${due} THEN 0 ELSE c.probes END AS pr,
        CASE WHEN ${due} AND c.state = 'open' THEN 0 ELSE c.successes END AS su,
        CASE WHEN ${due} THEN $2::timestamptz + ${timeout('c')} ELSE c.next_probe_at END AS np
      FROM cur c
    ),
    v AS (
      SELECT s.*, CASE WHEN s.st = 'closed' THEN 'run' WHEN s.st = 'halfOpen' AND s.pr + s.su < s.success_threshold THEN 'probe' ELSE 'hold' END AS verdict
      FROM s
    )
    UPDATE ${n.breakers} b
    SET state = v.st, probes = v.pr + (v.verdict = 'probe')::int, successes = v.su, next_probe_at = v.np, version = b.version + 1
    FROM v WHERE b.name = v.name
    RETURNING ${columns('b')}, v.was, v.verdict`;

  // $2 the outcome, $3 whether it ran on a probe slot, $4 now.
  const probed = `(s.was = 'halfOpen' AND $3::boolean)`;
  const record = `
    WITH cur AS (SELECT * FROM ${n.breakers} WHERE name = $1 FOR UPDATE),
    s AS (
      SELECT c.*, c.state AS was,
        CASE WHEN c.state = 'closed' AND $2 = 'failure' AND c.failures + 1 >= c.failure_threshold THEN 'open'
             WHEN c.state = 'halfOpen' AND $3::boolean AND $2 = 'failure' THEN 'open'
             WHEN c.state = 'halfOpen' AND $3::boolean AND $2 = 'success' AND c.successes + 1 >= c.success_threshold THEN 'closed'
             ELSE c.state END AS st
      FROM cur c
    )
    UPDATE ${n.breakers} b SET
      state = s.st,
      failures = CASE WHEN s.st = 'closed' AND (s.was <> 'closed' OR $2 = 'success') THEN 0
                      WHEN $2 = 'failure' AND (s.was = 'closed' OR ${probed}) THEN s.failures + 1
                      ELSE s.failures END,
      successes = CASE WHEN s.st <> s.was THEN 0 WHEN ${probed} AND $2 = 'success' THEN s.successes + 1 ELSE s.successes END,
      probes = CASE WHEN s.st <> s.was THEN 0 WHEN ${probed} THEN greatest(s.probes - 1, 0) ELSE s.probes END,
      opened_at = CASE WHEN s.st = 'open' AND s.was <> 'open' THEN $4::timestamptz WHEN s.st = 'closed' THEN NULL ELSE s.opened_at END,
      next_probe_at = CASE WHEN s.st = 'open' AND s.was <> 'open' THEN $4::timestamptz + ${timeout('s')} WHEN s.st = 'closed' THEN NULL ELSE s.next_probe_at END,
      version = b.version + 1
    FROM s WHERE b.name = s.name
    RETURNING ${columns('b')}, s.was, ${ms('s.next_probe_at')} AS held_until`;

  const reset = `
    WITH cur AS (SELECT name, state, next_probe_at FROM ${n.breakers} WHERE name = $1 FOR UPDATE)
    UPDATE ${n.breakers} b SET state = 'closed', failures = 0, successes = 0, probes = 0, opened_at = NULL, next_probe_at = NULL, version = b.version + 1
    FROM cur WHERE b.name = cur.name
    RETURNING ${columns('b')}, cur.state AS was, ${ms('cur.next_probe_at')} AS held_until`;

  // Held jobs sit in the ready list at the breaker's instant: their ready rows
  // go first (the order a claim locks in: ready row, then job), then the jobs
  // move to now and get their ready rows back at the new place.
  const release = `
    WITH held AS (
      DELETE FROM ${n.ready} r WHERE r.run_at = $2::timestamptz AND r.name = ANY($1::text[]) RETURNING r.id
    ),
    moved AS (
      UPDATE ${n.jobs} j SET run_at = $3::timestamptz FROM held h
      WHERE j.id = h.id AND j.state = 'available' AND j.run_at = $2::timestamptz
      RETURNING ${movedColumns('j')}
    ),
    ${side.requeue('queued', 'moved')}
    SELECT DISTINCT queue FROM moved`;

  return {
    define: (name: string, s: BreakerSettings): Statement => ({ text: define, values: [name, s.failureThreshold, s.successThreshold, s.resetTimeout] }),
    list: (): Statement => ({ text: list, values: [], readOnly: true }),
    acquire: (name: string, now: Date): Statement => ({ text: acquire, values: [name, now] }),
    record: (name: string, outcome: BreakerOutcome, probe: boolean, now: Date): Statement => ({ text: record, values: [name, outcome, probe, now] }),
    reset: (name: string): Statement => ({ text: reset, values: [name] }),
    release: (names: readonly string[], until: Date, now: Date): Statement => ({ text: release, values: [names, until, now] }),
  };
}
