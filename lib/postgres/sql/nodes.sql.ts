import type { NodeBeat } from '../../store/node-registry.js';
import type { SqlNames } from './names.js';
import type { Statement } from './statement.js';

/**
 * The node registry (migration 14). A beat also deletes the rows whose time
 * ran out: nodes are few, and a node killed without a clean stop would
 * otherwise stay forever.
 * @internal
 */
export function nodeStatements(n: SqlNames) {
  const ms = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;
  const beat = `
    WITH expired AS (DELETE FROM ${n.nodes} WHERE expires_at <= $5 AND node <> $1)
    INSERT INTO ${n.nodes} AS x (node, version, queues, started_at, heartbeat_at, expires_at) VALUES ($1, $2, $3::jsonb, $4, $5, $6)
    ON CONFLICT (node) DO UPDATE SET version = EXCLUDED.version, queues = EXCLUDED.queues, started_at = EXCLUDED.started_at,
      heartbeat_at = EXCLUDED.heartbeat_at, expires_at = EXCLUDED.expires_at`;
  const list = `SELECT node, version, queues, ${ms('started_at')} AS started_at, ${ms('heartbeat_at')} AS heartbeat_at
    FROM ${n.nodes} WHERE expires_at > $1 ORDER BY node`;
  const remove = `DELETE FROM ${n.nodes} WHERE node = $1`;
  return {
    beat: (b: NodeBeat, now: Date, ttlMs: number): Statement => ({
      text: beat,
      values: [b.node, b.version, JSON.stringify(b.queues), b.startedAt, now, new Date(now.getTime() + ttlMs)],
    }),
    list: (now: Date): Statement => ({ text: list, values: [now], readOnly: true }),
    remove: (node: string): Statement => ({ text: remove, values: [node] }),
  };
}
