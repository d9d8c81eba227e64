import type { NodeBeat, NodeRecord, NodeRegistry } from '../store/node-registry.js';
import type { nodeStatements } from './sql/nodes.sql.js';
import type { Statement } from './sql/statement.js';

interface NodeRow {
  node: string;
  version: string | null;
  queues: Record<string, number>;
  started_at: number;
  heartbeat_at: number;
}

/**
 * The node registry in PostgreSQL: a row per node, shared by every node of
 * the schema and prefix (see nodes.sql.ts).
 * @internal
 */
export class PostgresNodes implements NodeRegistry {
  constructor(
    private readonly sql: ReturnType<typeof nodeStatements>,
    private readonly rows: <T extends object>(statement: Statement) => Promise<T[]>,
  ) {}

  async beat(beat: NodeBeat, now: Date, ttlMs: number): Promise<void> {
    await this.rows(this.sql.beat(beat, now, ttlMs));
  }

  async list(now: Date): Promise<NodeRecord[]> {
    const rows = await this.rows<NodeRow>(this.sql.list(now));
    return rows.map((row) => ({
      node: row.node,
      version: row.version,
      queues: row.queues,
      startedAt: new Date(Number(row.started_at)),
      heartbeatAt: new Date(Number(row.heartbeat_at)),
    }));
  }

  async remove(node: string): Promise<void> {
    await this.rows(this.sql.remove(node));
  }
}
