import { Logger } from '@nestjs/common';
import type { Peer } from '../peer/peer.js';
import type { Notifier } from '../notifier/notifier.js';
import { within } from '../common/within.js';
import { LeaseKeeper } from '../peer/lease-keeper.js';
import { closeRedis, type RedisConnection } from './redis.client.js';

/**
 * Options of {@link RedisPeer}.
 * @publicApi
 */
export interface RedisPeerOptions {
  /** This node's name. */
  node: string;
  /** Lease lifetime in ms; the leader renews every `leaseTtl / 3`. */
  leaseTtl: number;
  /** `peer: false` → this node never tries to lead (it can still tell who does). */
  eligible: boolean;
  /** Where `{ type: 'leader' }` arrives when the leader resigns: followers try at once. */
  notifier?: Notifier;
  /** The channel a resigning leader publishes `{ type: 'leader' }` on (the notifier's). */
  channel: string;
}

/**
 * Leadership through one key, `{prefix}:leader` (`SET NX PX` with a fencing
 * token from INCR, scripts/lease.lua.ts), renewed every `leaseTtl / 3` on a
 * connection of its own so that renewals never wait behind the store's
 * scripts. A leader that cannot renew in time resigns before its lease can
 * expire; a clean stop deletes the key and wakes the followers.
 * @publicApi
 */
export class RedisPeer implements Peer {
  private readonly logger = new Logger('Scheduler');
  private readonly keeper: LeaseKeeper;
  private stopped = true;
  /** The lease's own connection, opened at start. */
  private lease: RedisConnection | null = null;

  constructor(
    private readonly redis: RedisConnection,
    private readonly options: RedisPeerOptions,
  ) {
    this.keeper = new LeaseKeeper({
      leaseTtl: options.leaseTtl,
      what: 'leader lease script',
      notifier: options.notifier,
      take: async () => {
        if (!this.lease) return null;
        return (await this.lease.run('schedTakeLease', options.node, Math.ceil(options.leaseTtl))) as string | null;
      },
    });
  }

  /** The fencing token of this node's leadership (grows with every new leader), or `null` when it does not lead. */
  get fencingToken(): number | null {
    const token = this.keeper.heldToken;
    return token === null ? null : Number(token);
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    if (!this.options.eligible) return;
    // A renewal with no answer is given up after a third of the TTL; its socket is replaced by then too, so the next one gets through.
    const lease = await this.redis.fork({ socketTimeout: Math.min(this.redis.timeouts.socketTimeout, Math.max(100, Math.floor(this.options.leaseTtl / 3))) });
    // A stop that came while the connection opened must not be followed by a take.
    if (this.stopped) return closeRedis(lease);
    this.lease = lease;
    await this.keeper.start();
  }

  /** Resigns: deletes the lease if it is still ours and wakes the followers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const token = await this.keeper.stop();
    const lease = this.lease;
    this.lease = null;
    if (!lease) return;
    if (token === null) return closeRedis(lease);
    const release = lease.run('schedResignLease', this.options.node, token, this.options.channel, JSON.stringify({ type: 'leader' }));
    await within(release, 2_000, 'releasing the lease').catch((error: unknown) =>
      this.logger.warn(`releasing the leader lease failed (it expires by itself): ${error instanceof Error ? error.message : String(error)}`),
    );
    await closeRedis(lease);
  }

  isLeader(): boolean {
    return this.keeper.isLeader();
  }

  async leaderNode(): Promise<string | null> {
    const value = await this.redis.client.get(`${this.redis.base}leader`);
    return value === null ? null : value.slice(value.indexOf('|') + 1);
  }

  onChange(listener: (leader: boolean) => void): void {
    this.keeper.onChange(listener);
  }
}
