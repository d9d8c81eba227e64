import { Logger } from '@nestjs/common';
import type { Notification, Notifier } from '../notifier/notifier.js';
import type { SqliteConnection } from './sqlite.connection.js';

/** Messages older than this are swept (every process has read them long before). */
const KEEP_MESSAGES_MS = 60_000;

/**
 * Options of {@link SqliteNotifier}.
 * @publicApi
 */
export interface SqliteNotifierOptions {
  /** This node's name: its own messages reach its listeners at once, not through the file. */
  node: string;
  /** How often to check the file's data version, in ms. @default 100 */
  interval?: number;
}

/**
 * Messages among the processes that open one SQLite file: `notify` appends a
 * row to `messages`; each process checks `PRAGMA data_version` every
 * `interval` and reads the new rows only when another connection committed
 * since its last check. Why data_version: it is answered from the
 * connection's own state (no table read, no write lock), so an idle process
 * costs one cheap pragma per interval, and there is no busy loop.
 * Own messages go to this process's listeners directly, as LISTEN/NOTIFY
 * would deliver them.
 * @publicApi
 */
export class SqliteNotifier implements Notifier {
  readonly shared = true;
  private readonly logger = new Logger('Scheduler');
  private readonly listeners = new Set<(message: Notification) => void>();
  private readonly interval: number;
  private timer: NodeJS.Timeout | null = null;
  private lastId = 0;
  private version: number | null = null;
  private sweptAt = 0;

  constructor(
    private readonly sqlite: SqliteConnection,
    private readonly options: SqliteNotifierOptions,
  ) {
    this.interval = options.interval ?? 100;
  }

  async start(): Promise<void> {
    if (this.timer) return;
    const { db } = this.sqlite;
    this.lastId = (this.sqlite.statement('SELECT coalesce(max(id), 0) AS id FROM messages').get() as { id: number }).id;
    this.version = Number(db.pragma('data_version', { simple: true }));
    this.timer = setInterval(() => this.poll(), this.interval);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  /**
   * Appends the message for the other processes and hands it to this one's
   * listeners. While a transaction of the app is open on a DataSource's
   * connection, both wait for it to end, and `notify` does not: its caller
   * may be inside that transaction (an enqueue with `{ manager }` wakes the
   * queues of its jobs), and the message must not be rolled back with it. A
   * rollback then leaves a wake-up for jobs that never were: a claim that
   * finds nothing.
   *
   * A write the file refuses (another process holds it past `busyTimeout`,
   * a full disk) is logged, not thrown, as on PostgreSQL: the message only
   * wakes the others sooner than their polling would, and its caller's own
   * write is committed already (an enqueue that rejected there would be
   * retried, its job inserted twice). This process's listeners still get it.
   */
  async notify(message: Notification): Promise<void> {
    const sqlite = this.sqlite;
    // After the store closed (a stop in progress) only this process can still hear it.
    if (!sqlite.open) return queueMicrotask(() => this.deliver(message));
    const written = sqlite.write(() => this.append(message));
    if (!sqlite.busy) {
      try {
        await written;
      } catch (error) {
        this.logger.warn(`sending a "${message.type}" notification through ${sqlite.path} failed (polling will catch up): ${describe(error)}`);
      }
      queueMicrotask(() => this.deliver(message));
      return;
    }
    written.then(
      () => this.deliver(message),
      (error: unknown) => this.logger.warn(`sending a notification through ${sqlite.path} failed: ${describe(error)}`),
    );
  }

  subscribe(listener: (message: Notification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private append(message: Notification): void {
    const now = Date.now();
    this.sqlite.statement('INSERT INTO messages (node, at, body) VALUES (?, ?, ?)').run(this.options.node, now, JSON.stringify(message));
    if (now - this.sweptAt > KEEP_MESSAGES_MS) {
      this.sqlite.statement('DELETE FROM messages WHERE at < ?').run(now - KEEP_MESSAGES_MS);
      this.sweptAt = now;
    }
  }

  /** Reads what other processes appended since the last poll, if the file changed. */
  private poll(): void {
    const sqlite = this.sqlite;
    if (!sqlite.open) {
      // The store closed the file without a stop (a failed start): nothing more to hear, and no timer to keep the process alive.
      void this.stop();
      return;
    }
    // Inside the app's transaction (a DataSource's connection) the rows read are its snapshot, maybe older than the data version: the next poll reads them.
    if (sqlite.busy) return;
    try {
      const version = Number(sqlite.db.pragma('data_version', { simple: true }));
      if (version === this.version) return;
      this.version = version;
      const rows = sqlite.statement('SELECT id, body FROM messages WHERE id > ? AND node <> ? ORDER BY id').all(this.lastId, this.options.node) as {
        id: number;
        body: string;
      }[];
      for (const row of rows) {
        this.lastId = row.id;
        const message = parseMessage(row.body);
        if (message) this.deliver(message);
      }
    } catch (error) {
      // SQLITE_BUSY past the busy timeout, or a file gone: the next poll tries again.
      this.logger.warn(`reading notifications from ${sqlite.path} failed: ${describe(error)}`);
    }
  }

  private deliver(message: Notification): void {
    for (const listener of this.listeners) listener(message);
  }
}

/** A stored message, or `null` for one this release does not know (an object with a string `type` at least). */
function parseMessage(body: string): Notification | null {
  try {
    const value = JSON.parse(body) as unknown;
    return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' ? (value as Notification) : null;
  } catch {
    return null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
