import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Peer } from '../peer/peer.js';
import type { Notifier } from '../notifier/notifier.js';
import { within } from '../common/within.js';
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
  private readonly listeners: ((leader: boolean) => void)[] = [];
  private readonly interval: number;
  private readonly validity: number;
  private leader = false;
  private token: string | null = null;
  private validUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private unsubscribe: (() => void) | null = null;
  /** The lease's own connection, opened at start. */
  private lease: RedisConnection | null = null;

  constructor(
    private readonly redis: RedisConnection,
    private readonly options: RedisPeerOptions,
  ) {
    this.interval = options.leaseTtl / 3;
    // Why 5/6: the key expires ttl after Redis ran the script, which is after
    // we sent it, so measured from the send on our monotonic clock it lives
    // at least ttl. A renewal that hangs is given up after ttl/3, so by 2/3
    // ttl after the last good send we know; the belief ends at 5/6 ttl,
    // leaving ttl/6 for a late timer or a stalled event loop. The unique
    // (schedule, tick) key in the store is the final guard.
    this.validity = (options.leaseTtl * 5) / 6;
  }

  /** The fencing token of this node's leadership (grows with every new leader), or `null` when it does not lead. */
  get fencingToken(): number | null {
    return this.isLeader() && this.token !== null ? Number(this.token) : null;
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    if (!this.options.eligible) return;
    this.lease = await this.redis.fork();
    this.unsubscribe = this.options.notifier?.subscribe((m) => m.type === 'leader' && void this.tryNow()) ?? null;
    await this.tryNow();
  }

  /** Resigns: deletes the lease if it is still ours and wakes the followers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    const token = this.token;
    const lease = this.lease;
    this.lease = null;
    this.set(false);
    if (!lease) return;
    if (token === null) return closeRedis(lease);
    const release = lease.run('schedResignLease', this.options.node, token, this.options.channel, JSON.stringify({ type: 'leader' }));
    await within(release, 2_000, 'releasing the lease').catch((error: unknown) =>
      this.logger.warn(`releasing the leader lease failed (it expires by itself): ${describe(error)}`),
    );
    await closeRedis(lease);
  }

  isLeader(): boolean {
    return this.leader && performance.now() < this.validUntil;
  }

  async leaderNode(): Promise<string | null> {
    const value = await this.redis.client.get(`${this.redis.base}leader`);
    return value === null ? null : value.slice(value.indexOf('|') + 1);
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  private tryNow(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
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
    const sentAt = performance.now();
    if (!this.lease) return this.interval;
    try {
      const run = this.lease.run('schedTakeLease', this.options.node, Math.ceil(this.options.leaseTtl));
      const token = (await within(run, this.interval, 'leader lease script')) as string | null;
      const valid = sentAt + this.validity;
      if (this.stopped) return 0;
      if (token !== null && performance.now() < valid) this.hold(token, valid);
      else this.set(false);
      return Math.max(0, sentAt + this.interval - performance.now());
    } catch (error) {
      if (this.leader) this.logger.warn(`leader lease renewal failed, resigning: ${describe(error)}`);
      this.set(false);
      return Math.min(this.interval, 1_000);
    }
  }

  private hold(token: string, validUntil: number): void {
    this.token = token;
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
    if (!leader) {
      if (this.deadline) clearTimeout(this.deadline);
      this.deadline = null;
      this.token = null;
    }
    if (this.leader === leader) return;
    this.leader = leader;
    for (const listener of this.listeners) listener(leader);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
