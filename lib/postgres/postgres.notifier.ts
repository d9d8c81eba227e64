import { Logger } from '@nestjs/common';
import type pg from 'pg';
import { within } from '../common/within.js';
import { parseNotification } from '../notifier/notification.parse.js';
import type { Notification, Notifier } from '../notifier/notifier.js';
import { quoteIdent } from './identifiers.js';
import { endClient } from './postgres.connection.js';
import type { PostgresContext } from './postgres.context.js';
import { connectionHint } from './postgres.errors.js';
import { boundsWithin } from './postgres.timeouts.js';

/** Longest wait between reconnection attempts. */
const MAX_BACKOFF = 5_000;

/**
 * LISTEN/NOTIFY between nodes. One dedicated connection listens on the
 * scheduler's channel; a health query checks it, and when it breaks it is
 * reopened with backoff and subscribers get a synthetic `resync` (NOTIFY is
 * not durable: whatever was sent meanwhile is caught up by a fetch).
 * Sending goes through the pool and never fails the caller: polling is the fallback.
 * @publicApi
 */
export class PostgresNotifier implements Notifier {
  readonly shared = true;
  private readonly logger = new Logger('Scheduler');
  private readonly listeners = new Set<(message: Notification) => void>();
  private readonly healthInterval: number;
  /** The health check's period on the current connection: `healthInterval`, or less under the server's idle timeout. */
  private checkEvery: number;
  private client: pg.Client | null = null;
  /** The client whose LISTEN succeeded. */
  private listeningOn: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;
  private stopped = true;
  private failures = 0;
  /** True during the first connection attempt of `start()`. */
  private initial = true;
  /** Set when the connection was (re)opened after a gap; delivered once the store is ready. */
  private resyncPending = false;

  constructor(
    private readonly pg: PostgresContext,
    private readonly options: { ready: () => boolean; healthInterval?: number },
  ) {
    this.healthInterval = options.healthInterval ?? 5_000;
    this.checkEvery = this.healthInterval;
  }

  /** Starts listening; resolves even when the database is down (it keeps retrying in the background). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.failures = 0;
    this.initial = true;
    await this.reconnect();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimer();
    // A connection attempt in flight ends its client itself once it sees `stopped`.
    await this.connecting?.catch(() => {});
    const client = this.client;
    this.client = null;
    if (client) {
      await within(client.query('UNLISTEN *'), 1_000, 'UNLISTEN').catch(() => {});
      await endClient(client);
    }
    this.listeners.clear();
  }

  async notify(message: Notification): Promise<void> {
    try {
      await this.pg.pool.query('SELECT pg_notify($1, $2)', [this.pg.channel, JSON.stringify(message)]);
    } catch (error) {
      this.logger.warn(`sending a "${message.type}" notification failed (polling will catch up): ${describe(error)}`);
    }
  }

  /** True while the LISTEN connection is up: notifications reach this node. */
  get listening(): boolean {
    return this.client !== null && this.listeningOn === this.client;
  }

  /**
   * The backend pid of the LISTEN session while it is up, else null: an offer
   * of push slots names it, so that inserts skip the offers of dead nodes.
   */
  get listener(): number | null {
    if (!this.listening) return null;
    // node-postgres keeps the BackendKeyData pid here (untyped in @types/pg).
    const pid = (this.client as pg.Client & { processID?: number | null }).processID;
    return typeof pid === 'number' ? pid : null;
  }

  subscribe(listener: (message: Notification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private deliver(message: Notification): void {
    // oxlint-disable-next-line unicorn/no-useless-spread -- a snapshot: a listener may unsubscribe or subscribe another while it runs
    for (const listener of [...this.listeners]) {
      try {
        listener(message);
      } catch (error) {
        this.logger.error(`a "${message.type}" notification listener threw: ${describe(error)}`);
      }
    }
  }

  /** One attempt to open, LISTEN and arm the health check; on failure schedules the next with backoff. */
  private reconnect(): Promise<void> {
    this.timer = null;
    if (this.stopped) return Promise.resolve();
    this.connecting ??= this.open()
      .then(() => {
        if (this.failures > 0) this.logger.log('LISTEN connection restored');
        this.failures = 0;
        this.schedule(this.checkEvery);
        this.flushResync();
      })
      .catch((error: unknown) => {
        if (this.stopped) return;
        if (this.failures === 0)
          this.logger.warn(`the LISTEN connection could not be opened, retrying with back-off: ${describe(error)}${connectionHint(error)}`);
        this.failures++;
        this.schedule(Math.min(100 * 2 ** this.failures, MAX_BACKOFF));
      })
      .finally(() => {
        this.connecting = null;
        this.initial = false;
      });
    return this.connecting;
  }

  private async open(): Promise<void> {
    // Its statements (LISTEN, the health check) must answer within a health interval, or the socket is given up.
    const client = await this.pg.connect(boundsWithin(Math.max(this.healthInterval, 1_000)));
    if (this.stopped) {
      await endClient(client);
      return;
    }
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (n) => {
      if (this.client !== client || n.channel !== this.pg.channel) return;
      const message = parseNotification(n.payload);
      if (message) this.deliver(message);
    });
    // Current before LISTEN, so a notification in the same packet as LISTEN's reply is not dropped.
    this.client = client;
    try {
      this.checkEvery = await this.checkInterval(client);
      await within(client.query(`LISTEN ${quoteIdent(this.pg.channel)}`), Math.max(this.healthInterval, 1_000), 'LISTEN');
    } catch (error) {
      if (this.client === client) this.client = null;
      void endClient(client);
      throw error;
    }
    this.listeningOn = client;
    // Anything sent while we were not listening is lost: subscribers catch up.
    // Not after the first attempt of start(): the app has just loaded everything.
    if (!this.initial) this.resyncPending = true;
  }

  /**
   * A session left idle past `idle_session_timeout` (PostgreSQL 14+, often set
   * per role or database) is closed by the server, and a LISTEN session is
   * idle between notifications: closed every few seconds, it would lose what
   * was sent meanwhile and cost a reconnection, a warning and a catch-up each
   * time. So the health check runs within half of that timeout when it is
   * shorter than the health interval. Older servers have no such setting (no row).
   */
  private async checkInterval(client: pg.Client): Promise<number> {
    const { rows } = await within(
      client.query<{ ms: string }>(`SELECT setting AS ms FROM pg_settings WHERE name = 'idle_session_timeout'`),
      Math.max(this.healthInterval, 1_000),
      'reading idle_session_timeout',
    );
    const idle = Number(rows[0]?.ms ?? 0);
    return idle > 0 ? Math.min(this.healthInterval, Math.max(Math.floor(idle / 2), 1)) : this.healthInterval;
  }

  /** Health tick (connected) or reconnection attempt (not connected). */
  private async tick(): Promise<void> {
    this.timer = null;
    const client = this.client;
    if (!client) return void this.reconnect();
    try {
      await within(client.query('SELECT 1'), Math.max(this.healthInterval, 1_000), 'LISTEN health check');
      if (this.client !== client || this.stopped) return;
      this.flushResync();
      this.schedule(this.checkEvery);
    } catch (error) {
      this.lost(client, error);
    }
  }

  /** Drops a broken connection (once) and reconnects at once; later attempts back off. */
  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return;
    this.client = null;
    // Its socket may be half open (a partition): a goodbye nobody answers would keep the process alive.
    void endClient(client);
    if (this.stopped) return;
    this.logger.warn(`LISTEN connection lost, reconnecting: ${describe(error)}`);
    this.clearTimer();
    void this.reconnect();
  }

  /** Delivers a pending `resync` once the store can serve the catch-up fetch. */
  private flushResync(): void {
    if (!this.resyncPending || !this.options.ready()) return;
    this.resyncPending = false;
    this.deliver({ type: 'resync' });
  }

  private schedule(delay: number): void {
    this.clearTimer();
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), delay);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
