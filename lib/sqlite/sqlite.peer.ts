import { Logger } from '@nestjs/common';
import type { Notifier } from '../notifier/notifier.js';
import type { Peer } from '../peer/peer.js';
import { LeaseKeeper } from '../peer/lease-keeper.js';
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
  private readonly keeper: LeaseKeeper;
  private stopped = true;

  constructor(
    private readonly sqlite: SqliteConnection,
    private readonly options: SqlitePeerOptions,
  ) {
    this.keeper = new LeaseKeeper({
      leaseTtl: options.leaseTtl,
      notifier: options.notifier,
      // On a DataSource's connection the write may wait for the app's transaction (up to `busyTimeout`):
      // it is not given up on, and the lease is believed from before the wait.
      bounded: false,
      take: () => this.take(),
    });
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    if (!this.options.eligible) return;
    await this.keeper.start();
  }

  /** Resigns, deletes the row if it is ours and tells the others (a `leader` message). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const held = await this.keeper.stop();
    if (held === null || !this.sqlite.open) return;
    try {
      const sqlite = this.sqlite;
      await sqlite.write(() => sqlite.statement(`DELETE FROM leases WHERE name = 'leader' AND node = ?`).run(this.options.node));
      await this.options.notifier?.notify({ type: 'leader' });
    } catch (error) {
      this.logger.warn(`releasing the leader lease failed (it expires by itself): ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  isLeader(): boolean {
    return this.keeper.isLeader();
  }

  async leaderNode(): Promise<string | null> {
    const sqlite = this.sqlite;
    if (!sqlite.open) return null;
    const row = await sqlite.read(
      () => sqlite.statement(`SELECT node FROM leases WHERE name = 'leader' AND expires_at > ?`).get(Date.now()) as { node: string } | undefined,
    );
    return row?.node ?? null;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.keeper.onChange(listener);
  }

  /** One take-or-renew in a write transaction; a file the store closed without a stop holds no lease. */
  private async take(): Promise<string | null> {
    const sqlite = this.sqlite;
    if (!sqlite.open) return null;
    const row = await sqlite.write(() => {
      const now = Date.now();
      return sqlite
        .statement(
          `INSERT INTO leases (name, node, expires_at) VALUES ('leader', ?, ?)
           ON CONFLICT (name) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at
           WHERE leases.expires_at <= ? OR leases.node = excluded.node RETURNING node`,
        )
        .get(this.options.node, now + this.options.leaseTtl, now) as { node: string } | undefined;
    });
    return row?.node ?? null;
  }
}
