import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Notifier } from '../notifier/notifier.js';
import type { Peer } from '../peer/peer.js';
import type { SqliteConnection } from './sqlite.connection.js';

/**
 * Options of {@link SqlitePeer}.
 * @publicApi
 */
export interface SqlitePeerOptions {
  /** This node's name, written in the lease row. */
  node: string;
  /** How long a taken lease lasts, in ms; renewed every third of it. */
  leaseTtl: number;
  /** Whether this node may become leader (`peer: false` → never). */
  eligible: boolean;
  /** Hears released leases (a `leader` message), so a follower takes over at once. */
  notifier?: Notifier;
}

/**
 * Leadership among the processes that open one SQLite file: one row in
 * `leases`, taken when it is missing or expired and renewed by its holder
 * every `leaseTtl / 3`, in a write transaction (one writer at a time: two
 * processes never both take it). Expiry is judged on the machine's clock,
 * which every process of the file shares (SQLite in WAL mode needs one
 * machine: its shared memory index does not work over a network file system).
 * @publicApi
 */
export class SqlitePeer implements Peer {
  private readonly logger = new Logger('Scheduler');
  private readonly listeners: ((leader: boolean) => void)[] = [];
  private readonly interval: number;
  private leader = false;
  private validUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly sqlite: SqliteConnection,
    private readonly options: SqlitePeerOptions,
  ) {
    this.interval = options.leaseTtl / 3;
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    if (!this.options.eligible) return;
    this.unsubscribe = this.options.notifier?.subscribe((m) => m.type === 'leader' && void this.attempt()) ?? null;
    await this.attempt();
  }

  /** Resigns, deletes the row if it is ours and tells the others (a `leader` message). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const held = this.leader;
    this.set(false);
    const sqlite = this.sqlite;
    if (!held || !sqlite.open) return;
    try {
      await this.resign();
      await this.options.notifier?.notify({ type: 'leader' });
    } catch (error) {
      this.logger.warn(`releasing the leader lease failed (it expires by itself): ${describe(error)}`);
    }
  }

  isLeader(): boolean {
    return this.leader && performance.now() < this.validUntil;
  }

  async leaderNode(): Promise<string | null> {
    const sqlite = this.sqlite;
    if (!sqlite.open) return null;
    const row = sqlite.statement(`SELECT node FROM leases WHERE name = 'leader' AND expires_at > ?`).get(Date.now()) as { node: string } | undefined;
    return row?.node ?? null;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  /**
   * One take-or-renew now, then the next one a third of the TTL later. On a
   * DataSource's connection the write may wait for the app's transaction
   * (up to `busyTimeout`); the lease is believed from before the wait.
   */
  private async attempt(): Promise<void> {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const sqlite = this.sqlite;
    if (!sqlite.open) {
      // The store closed the file without a stop: no lease to keep, and no timer to keep the process alive.
      this.set(false);
      return;
    }
    const sentAt = performance.now();
    try {
      const row = await sqlite.write(() => {
        const now = Date.now();
        return sqlite
          .statement(
            `INSERT INTO leases (name, node, expires_at) VALUES ('leader', ?, ?)
             ON CONFLICT (name) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at
             WHERE leases.expires_at <= ? OR leases.node = excluded.node RETURNING node`,
          )
          .get(this.options.node, now + this.options.leaseTtl, now);
      });
      // Stopped while the write waited: the row just taken goes, so no other process waits for it to expire.
      if (this.stopped) {
        if (row) await this.resign();
        return;
      }
      // Believed until 5/6 of the TTL from before the write: a late timer or a
      // stalled event loop then resigns before another process can take the row.
      if (row) this.hold(sentAt + (this.options.leaseTtl * 5) / 6);
      else this.set(false);
    } catch (error) {
      if (this.leader) this.logger.warn(`leader lease renewal failed, resigning: ${describe(error)}`);
      this.set(false);
    }
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => void this.attempt(), this.interval);
  }

  private resign(): Promise<unknown> {
    const sqlite = this.sqlite;
    return sqlite.write(() => sqlite.statement(`DELETE FROM leases WHERE name = 'leader' AND node = ?`).run(this.options.node));
  }

  private hold(validUntil: number): void {
    this.validUntil = validUntil;
    this.set(true);
  }

  private set(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    for (const listener of this.listeners) listener(leader);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
