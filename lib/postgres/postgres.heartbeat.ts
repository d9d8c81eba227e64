import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type pg from 'pg';
import { endClient } from './postgres.connection.js';
import type { PostgresContext } from './postgres.context.js';
import { connectionHint, isConnectionError, isReadOnlySession, StoreUnavailableError } from './postgres.errors.js';
import type { Statement } from './sql/statement.js';

/** After the dedicated connection failed to open, heartbeats use the pool this long before trying it again. */
const REOPEN_AFTER_MS = 5_000;

/** pg reads a per-statement `query_timeout` (its typings lack it). */
type TimedStatement = Statement & { query_timeout: number };

/**
 * A connection of its own, outside the pool, for heartbeats: a pool busy with
 * claims and acks must never delay a heartbeat until the job is rescued.
 * Opened at start (`open`), before the pool can take the last connection a
 * role or server allows. A statement that gets no answer within
 * `heartbeatTimeout` drops the connection (its socket may be half-open) and
 * is sent once more on a new one, as is one refused because the session is
 * read only (opened while the database was). While the connection cannot be opened,
 * heartbeats go through the pool, with the same bound, rather than stop.
 * @internal
 */
export class HeartbeatConnection {
  private readonly logger = new Logger('Scheduler');
  private client: Promise<pg.Client> | null = null;
  /** `performance.now()` before which a failed open is not tried again; 0 while it opens fine. */
  private reopenAt = 0;
  /** The statement under way: the next waits for it (pg deprecates a query on a client already running one). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly pg: Pick<PostgresContext, 'connect' | 'pool' | 'timeouts'>) {}

  /** Opens the connection now; never rejects (a failure is logged, and heartbeats use the pool until it opens). */
  async open(): Promise<void> {
    await this.connection().catch(() => undefined);
  }

  async query(statement: Statement): Promise<pg.QueryResult> {
    for (let attempt = 0; ; attempt++) {
      const client = this.connection();
      let opened: pg.Client;
      try {
        opened = await client;
      } catch {
        return this.throughPool(statement);
      }
      try {
        const sent = this.tail.then(() => opened.query(statement));
        this.tail = sent.catch(() => undefined);
        return await sent;
      } catch (error) {
        // A session opened while the database was read only stays read only: a new one may not be.
        const readOnly = isReadOnlySession(error);
        if (!readOnly && !isConnectionError(error)) throw error;
        this.drop(client);
        if (attempt >= 1) throw readOnly ? error : new StoreUnavailableError('the heartbeat connection was lost', { cause: error });
      }
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.then(endClient).catch(() => undefined);
  }

  private async throughPool(statement: Statement): Promise<pg.QueryResult> {
    const timed: TimedStatement = { ...statement, query_timeout: this.pg.timeouts.heartbeat.queryTimeout };
    try {
      return await this.pg.pool.query(timed);
    } catch (error) {
      if (isConnectionError(error)) throw new StoreUnavailableError('heartbeats could not reach PostgreSQL', { cause: error });
      throw error;
    }
  }

  /** The open connection, or a new attempt (which rejects at once during the back-off after a failed one). */
  private connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    if (performance.now() < this.reopenAt) return Promise.reject(new Error('the heartbeat connection is backing off'));
    const client: Promise<pg.Client> = this.pg.connect(this.pg.timeouts.heartbeat).then(
      (c) => {
        c.on('error', () => this.drop(client));
        c.on('end', () => this.drop(client));
        if (this.reopenAt > 0) this.logger.log('the heartbeat connection is open again: heartbeats leave the pool');
        this.reopenAt = 0;
        return c;
      },
      (error: unknown) => {
        if (this.reopenAt === 0) {
          this.logger.warn(
            `the heartbeat connection could not be opened (${describe(error)})${connectionHint(error)}; ` +
              `heartbeats go through the pool and the connection is tried again every ${REOPEN_AFTER_MS / 1_000} s`,
          );
        }
        this.reopenAt = performance.now() + REOPEN_AFTER_MS;
        this.drop(client);
        throw error;
      },
    );
    return (this.client = client);
  }

  /** Forgets a connection (once) and ends it. */
  private drop(client: Promise<pg.Client>): void {
    if (this.client !== client) return;
    this.client = null;
    void client.then(endClient).catch(() => undefined);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
