import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { Notifier } from '../notifier/notifier.js';
import type { Peer } from '../peer/peer.js';
import type { PostgresContext } from './postgres.context.js';
import { quoteIdent } from './identifiers.js';
import { connectionHint } from './postgres.errors.js';
import { within } from '../common/within.js';
import { parseNotification } from '../notifier/notification.parse.js';
import { boundsWithin } from './postgres.timeouts.js';

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
  private readonly listeners: ((leader: boolean) => void)[] = [];
  private readonly interval: number;
  private readonly validity: number;
  private readonly take: string;
  private client: pg.Client | null = null;
  private leader = false;
  /** `performance.now()` after which we no longer believe we lead. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private opening: Promise<pg.Client> | null = null;
  private again = false;
  private stopped = true;
  /** Whether the last attempt to open the lease connection failed (logged once until one succeeds). */
  private openFailed = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly pg: PostgresContext,
    private readonly options: PostgresPeerOptions,
  ) {
    const ttl = options.leaseTtl;
    this.interval = ttl / 3;
    // Why 5/6: the row expires at (DB clock when the upsert ran) + ttl, and
    // the upsert ran after we sent it, so measured from the send on our
    // monotonic clock the row lives at least ttl (less clock-rate drift,
    // ~0.05 % with NTP slewing). Renewals go out every ttl/3 and each gives up
    // after ttl/3, so a renewal that hangs is abandoned by 2/3 ttl after the
    // last good send. The belief ends halfway between that and expiry, at 5/6
    // ttl: a margin of ttl/6 (5 s for the default 30 s) absorbs a late timer
    // or a stalled event loop. A DB clock stepped forward defeats any margin:
    // the unique (schedule, tick) key in the store is the final guard.
    this.validity = (ttl * 5) / 6;
    const t = pg.table('leases');
    this.take =
      `INSERT INTO ${t} AS leases (name, node, expires_at) VALUES ('leader', $1, now() + $2::interval) ` +
      `ON CONFLICT (name) DO UPDATE SET node = EXCLUDED.node, expires_at = EXCLUDED.expires_at ` +
      `WHERE leases.expires_at < now() OR leases.node = EXCLUDED.node RETURNING node`;
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    if (!this.options.eligible) return;
    this.unsubscribe = this.options.notifier?.subscribe((m) => m.type === 'leader' && void this.tryNow()) ?? null;
    await this.tryNow();
  }

  /** Resigns, releases the row if it is ours, wakes the followers and closes the lease connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.clearTimer();
    await this.inFlight;
    // A connect that outlived its attempt ends its client itself (it sees `stopped`); give it a moment.
    if (this.opening) await within(this.opening, 1_000, 'opening the lease connection').catch(() => {});
    this.set(false);
    const client = this.client;
    this.client = null;
    if (!client) return;
    // Released and announced in one statement; NOTIFY is sent at commit, after the DELETE.
    const release =
      `WITH released AS (DELETE FROM ${this.pg.table('leases')} WHERE name = 'leader' AND node = $1 RETURNING 1) ` + `SELECT pg_notify($2, $3) FROM released`;
    await within(client.query(release, [this.pg.node, this.pg.channel, JSON.stringify({ type: 'leader' })]), 2_000, 'releasing the lease').catch(
      (error: unknown) => this.logger.warn(`releasing the leader lease failed (it expires by itself): ${describe(error)}`),
    );
    await within(client.end(), 1_000, 'closing the lease connection').catch(() => {});
  }

  isLeader(): boolean {
    // Checked here too, not only by the deadline timer, in case the timer runs late.
    return this.leader && performance.now() < this.validUntil;
  }

  async leaderNode(): Promise<string | null> {
    if (!this.options.ready()) return null;
    const { rows } = await this.pg.pool.query<{ node: string }>(`SELECT node FROM ${this.pg.table('leases')} WHERE name = 'leader' AND expires_at > now()`);
    return rows[0]?.node ?? null;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Runs an attempt now (or right after the one in flight), then re-arms the timer. */
  private tryNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.clearTimer();
    this.inFlight = this.attempt().then((delay) => {
      this.inFlight = null;
      if (this.stopped) return;
      const next = this.again ? 0 : delay;
      this.again = false;
      this.timer = setTimeout(() => void this.tryNow(), next);
    });
    return this.inFlight;
  }

  /** One take-or-renew; returns the delay until the next one. */
  private async attempt(): Promise<number> {
    const retry = Math.min(this.interval, 1_000);
    if (!this.options.ready()) return retry;
    const sentAt = performance.now();
    try {
      const { rows } = await within(this.query(), this.interval, 'leader lease statement');
      const valid = sentAt + this.validity;
      if (this.stopped) return 0;
      if (rows.length === 1 && performance.now() < valid) this.hold(valid);
      else this.set(false);
      return Math.max(0, sentAt + this.interval - performance.now());
    } catch (error) {
      if (this.leader) this.logger.warn(`leader lease renewal failed, resigning: ${describe(error)}`);
      this.set(false);
      this.drop(this.client);
      return retry;
    }
  }

  private async query(): Promise<pg.QueryResult<{ node: string }>> {
    // One connection even when an attempt that gave up on a slow connect overlaps the next one.
    const client = this.client ?? (await (this.opening ??= this.open().finally(() => (this.opening = null))));
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
        client.on('notification', (n) => n.channel === this.pg.channel && parseNotification(n.payload)?.type === 'leader' && void this.tryNow());
        await client.query(`LISTEN ${quoteIdent(this.pg.channel)}`);
      }
      if (this.stopped) throw new Error('peer stopped');
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    return (this.client = client);
  }

  /** Forgets a broken connection; the next attempt opens a new one. */
  private drop(client: pg.Client | null): void {
    if (!client || this.client !== client) return;
    this.client = null;
    client.end().catch(() => {});
  }

  private hold(validUntil: number): void {
    this.validUntil = validUntil;
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = setTimeout(() => {
      this.deadline = null;
      if (this.leader) this.logger.warn('leader lease could not be renewed in time, resigning');
      this.set(false);
    }, validUntil - performance.now());
    this.set(true);
  }

  private set(leader: boolean): void {
    if (!leader && this.deadline) {
      clearTimeout(this.deadline);
      this.deadline = null;
    }
    if (this.leader === leader) return;
    this.leader = leader;
    for (const listener of this.listeners) listener(leader);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
