import type pg from 'pg';
import type { PostgresContext } from './postgres.context.js';
import { isConnectionError, StoreUnavailableError } from './postgres.errors.js';
import type { Statement } from './sql/statement.js';

/**
 * A connection of its own, outside the pool, for heartbeats: a pool busy with
 * claims and acks must never delay a heartbeat until the job is rescued.
 * Opened on first use; after a connection error it is dropped and the
 * statement is tried once more on a new one.
 */
export class DedicatedConnection {
  private client: Promise<pg.Client> | null = null;

  constructor(private readonly pg: Pick<PostgresContext, 'connect'>) {}

  async query(statement: Statement): Promise<pg.QueryResult> {
    for (let attempt = 0; ; attempt++) {
      const client = this.open();
      try {
        return await (await client).query(statement);
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        this.drop(client);
        if (attempt >= 1) throw new StoreUnavailableError('the heartbeat connection was lost', { cause: error });
      }
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.then((c) => c.end()).catch(() => undefined);
  }

  private open(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client: Promise<pg.Client> = this.pg.connect().then((c) => {
      c.on('error', () => this.drop(client));
      return c;
    });
    client.catch(() => this.drop(client));
    return (this.client = client);
  }

  private drop(client: Promise<pg.Client>): void {
    if (this.client !== client) return;
    this.client = null;
    void client.then((c) => c.end()).catch(() => undefined);
  }
}
