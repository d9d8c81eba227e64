import { hostname } from 'node:os';
import type { NodeBeat, NodeRecord, NodeRegistry } from '../store/node-registry.js';
import type { SqliteConnection } from './sqlite.connection.js';
import type { SqliteJobTable } from './sqlite.job-table.js';

interface NodeRow {
  node: string;
  version: string | null;
  queues: string | null;
  started_at: number;
  heartbeat_at: number;
}

/**
 * The node registry in SQLite: the beat columns of the `nodes` table (see
 * `rescueOrphans`). A node beats from its own process, so each beat also
 * writes that process's host and pid, which the orphan rescue of a later
 * start reads.
 * @internal
 */
export class SqliteNodeRegistry implements NodeRegistry {
  constructor(
    private readonly sqlite: SqliteConnection,
    private readonly table: SqliteJobTable,
  ) {}

  async beat(beat: NodeBeat, now: Date, ttlMs: number): Promise<void> {
    const at = now.getTime();
    await this.sqlite.write(() => {
      // Nodes killed without a clean stop; rows of the rescue alone (no beat) are left to it.
      this.table.sql('DELETE FROM nodes WHERE expires_at <= ? AND node <> ?').run(at, beat.node);
      this.table
        .sql(
          `INSERT INTO nodes (node, host, pid, started_at, version, queues, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (node) DO UPDATE SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at, version = excluded.version,
             queues = excluded.queues, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
        )
        .run(beat.node, hostname(), process.pid, beat.startedAt.getTime(), beat.version, JSON.stringify(beat.queues), at, at + ttlMs);
    });
  }

  async list(now: Date): Promise<NodeRecord[]> {
    const rows = this.table
      .sql('SELECT node, version, queues, started_at, heartbeat_at FROM nodes WHERE expires_at > ? ORDER BY node')
      .all(now.getTime()) as NodeRow[];
    return rows.map((row) => ({
      node: row.node,
      version: row.version,
      queues: row.queues === null ? {} : (JSON.parse(row.queues) as Record<string, number>),
      startedAt: new Date(row.started_at),
      heartbeatAt: new Date(row.heartbeat_at),
    }));
  }

  async remove(node: string): Promise<void> {
    await this.sqlite.write(() => this.table.sql('DELETE FROM nodes WHERE node = ?').run(node));
  }
}
