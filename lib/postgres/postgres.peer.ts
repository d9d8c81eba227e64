import { Logger } from '@nestjs/common';
import type pg from 'pg';
import type { Notifier } from '../notifier/notifier.js';
import type { Peer } from '../peer/peer.js';
import { endClient } from './postgres.connection.js';
import type { PostgresContext } from './postgres.context.js';
import { quoteIdent } from './identifiers.js';
import { connectionHint, isClosedConnection } from './postgres.errors.js';
import { within } from '../common/within.js';
import { parseNotification } from '../notifier/notification.parse.js';
import { boundsWithin } from './postgres.timeouts.js';
import { LeaseKeeper } from '../peer/lease-keeper.js';

/**
 * Options of {@link PostgresPeer}.
 * @publicApi
 */
export interface PostgresPeerOptions {
  /** Lease lifetime in ms; the leader renews every `leaseTtl / 3`. */
  leaseTtl: number;
  /** `peer: false` → this node never tries to lead (it can still tell who does). */
  eligible: boolean;
  /** False until the store's tables exist: until then the peer just retries. */
  ready: () => boolean;
  /** Where `{ type: 'leader' }` arrives; without one the peer LISTENs on its own lease connection. */
  notifier?: Notifier;
}

/**
 * Leadership through one lease row (`name = 'leader'`) whose expiry is judged
 * by the database's clock. Take and renew are one upsert on a dedicated
 * connection; a leader that cannot renew in time resigns before its lease can
 * expire, and a clean stop releases the row and wakes the followers.
 * @publicApi
 */
export class PostgresPeer implements Peer {
  private readonly logger = new Logger('Scheduler');
  private readonly keeper: LeaseKeeper;
  private readonly interval: number;
  private readonly take: string;
  private client: pg.Client | null = null;
  private opening: Promise<pg.Client> | null = null;
  private stopped = true;
  /** Whether the last attempt to open the lease connection failed (logged once until one succeeds). */
  private openFailed = false;

  constructor(
    private readonly pg: PostgresContext,
    private readonly options: PostgresPeerOptions,
  ) {
    this.interval = options.leaseTtl / 3;
    const t = pg.table('leases');
    // The row's expiry is judged by the database's clock (see LeaseKeeper for the margin kept on ours).
    this.take =
      `INSERT INTO ${t} AS leases (name, node, expires_at) VALUES ('leader', $1, now() + $2::interval) ` +
      `ON CONFLICT (name) DO UPDATE SET node = EXCLUDED.node, expires_at = EXCLUDED.expires_at ` +
      `WHERE leases.expires_at < now() OR leases.node = EXCLUDED.node RETURNING node`;
    this.keeper = new LeaseKeeper({
      leaseTtl: options.leaseTtl,
      what: 'leader lease statement',
      notifier: options.notifier,
      ready: options.ready,
      take: async () => (await this.query()).rows[0]?.node ?? null,
      failed: () => this.drop(this.client),
    });
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    if (!this.options.eligible) return;
    await this.keeper.start();
  }

  /** Resigns, releases the row if it is ours, wakes the followers and closes the lease connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const held = await this.keeper.stop();
    // A connect that outlived its attempt ends its client itself (it sees `stopped`); give it a moment.
    if (this.opening) await within(this.opening, 1_000, 'opening the lease connection').catch(() => {});
    const client = this.client;
    this.client = null;
    // The server (idle_session_timeout) or a proxy may have closed the lease connection while it idled
    // since the last renewal: a lease still held is then released through the pool, or the followers
    // would wait for it to expire.
    if (!client && held === null) return;
    // Released whether or not we believe we lead (a take given up on may have committed); announced in
    // the same statement, as NOTIFY is sent at commit, after the DELETE.
    const release =
      `WITH released AS (DELETE FROM ${this.pg.table('leases')} WHERE name = 'leader' AND node = $1 RETURNING 1) ` + `SELECT pg_notify($2, $3) FROM released`;
    const values = [this.pg.node, this.pg.channel, JSON.stringify({ type: 'leader' })];
    // Async: a borrowed pool that is gone throws at once, and that is logged like any failed release.
    const throughPool = async () => this.pg.pool.query(release, values);
    const released = client
      ? client.query(release, values).catch((error: unknown) => (held !== null && isClosedConnection(error) ? throughPool() : Promise.reject(error)))
      : throughPool();
    await within(released, 2_000, 'releasing the lease').catch((error: unknown) =>
      this.logger.warn(`releasing the leader lease failed (it expires by itself): ${describe(error)}`),
    );
    if (client) await endClient(client);
  }

  isLeader(): boolean {
    return this.keeper.isLeader();
  }

  async leaderNode(): Promise<string | null> {
    if (!this.options.ready()) return null;
    const { rows } = await this.pg.pool.query<{ node: string }>(`SELECT node FROM ${this.pg.table('leases')} WHERE name = 'leader' AND expires_at > now()`);
    return rows[0]?.node ?? null;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.keeper.onChange(listener);
  }

  private async query(): Promise<pg.QueryResult<{ node: string }>> {
    const reused = this.client;
    const client = reused ?? (await this.connection());
    try {
      return await this.send(client);
    } catch (error) {
      // The server (idle_session_timeout, a DBA) or a proxy may close the connection while it idles between renewals,
      // and a renewal sent as that close arrives fails without having run. The take is this node's own upsert, so it
      // is sent once more on a new connection (within the same bound) instead of resigning for a closed socket.
      if (reused === null || this.stopped || !isClosedConnection(error)) throw error;
      this.drop(reused);
      return this.send(await this.connection());
    }
  }

  /** The lease connection, opened once even when an attempt that gave up on a slow connect overlaps the next one. */
  private connection(): Promise<pg.Client> {
    return this.client ? Promise.resolve(this.client) : (this.opening ??= this.open().finally(() => (this.opening = null)));
  }

  private send(client: pg.Client): Promise<pg.QueryResult<{ node: string }>> {
    return client.query<{ node: string }>(this.take, [this.pg.node, `${Math.ceil(this.options.leaseTtl)} milliseconds`]);
  }

  /** Opens the lease connection; without a notifier it also LISTENs for released leases. */
  private async open(): Promise<pg.Client> {
    // Bounded like the attempt itself: a lease statement with no answer within a renewal interval gives the socket up.
    const client = await this.pg.connect(boundsWithin(this.interval)).then(
      (opened) => {
        if (this.openFailed) this.logger.log('the leader lease connection is open again');
        this.openFailed = false;
        return opened;
      },
      (error: unknown) => {
        if (!this.openFailed) this.logger.warn(`the leader lease connection could not be opened, retrying: ${describe(error)}${connectionHint(error)}`);
        this.openFailed = true;
        throw error;
      },
    );
    client.on('error', () => this.drop(client));
    client.on('end', () => this.drop(client));
    try {
      if (!this.options.notifier) {
        client.on('notification', (n) => n.channel === this.pg.channel && parseNotification(n.payload)?.type === 'leader' && void this.keeper.tryNow());
        await client.query(`LISTEN ${quoteIdent(this.pg.channel)}`);
      }
      if (this.stopped) throw new Error('peer stopped');
    } catch (error) {
      void endClient(client);
      throw error;
    }
    return (this.client = client);
  }

  /** Forgets a broken connection; the next attempt opens a new one. */
  private drop(client: pg.Client | null): void {
    if (!client || this.client !== client) return;
    this.client = null;
    void endClient(client);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
