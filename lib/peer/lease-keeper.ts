import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { within } from '../common/within.js';
import type { Notifier } from '../notifier/notifier.js';

/**
 * What a store's peer tells {@link LeaseKeeper} about its lease.
 * @internal
 */
export interface LeaseKeeperOptions {
  /** Lease lifetime in ms: renewed every third of it, believed for 5/6 of it from each renewal's send. */
  leaseTtl: number;
  /**
   * One take-or-renew of the lease for this node: its fencing token (or any
   * non-null text) when this node holds it afterwards, `null` when another
   * does. Rejects when the store could not be asked.
   */
  take(): Promise<string | null>;
  /** Gives up a take with no answer after a renewal interval (the lease may be lost meanwhile). @default true */
  bounded?: boolean;
  /** What the bound's error names, e.g. 'leader lease statement'. @default 'leader lease' */
  what?: string;
  /** False until the store can be asked (its tables exist): the keeper waits, trying again within a second. @default always ready */
  ready?: () => boolean;
  /** A take failed (rejected or gave up): say a connection to drop. */
  failed?: () => void;
  /** Where `{ type: 'leader' }` arrives when a leader resigns: the keeper tries at once. */
  notifier?: Notifier;
  /** A monotonic clock in ms (tests move it). @default performance.now */
  now?: () => number;
}

/**
 * The lease loop every store's peer shares: take or renew every `leaseTtl / 3`,
 * believe the lease until 5/6 of the TTL after the take was *sent*, resign
 * by a timer when no renewal came back by then, and tell listeners of each
 * change.
 *
 * Why 5/6: the store expires the lease a TTL after it ran the take, which
 * is after we sent it, so measured from the send on our monotonic clock it
 * lives at least a TTL (less clock-rate drift, ~0.05 % with NTP slewing). A
 * bounded take that hangs is given up after ttl/3, so by 2/3 ttl after the
 * last good send we know; the belief ends at 5/6, leaving ttl/6 (5 s for
 * the default 30 s) for a late timer or a stalled event loop. A store clock
 * stepped forward defeats any margin: the unique (schedule, tick) key in
 * the store is the final guard.
 * @internal
 */
export class LeaseKeeper {
  private readonly logger = new Logger('Scheduler');
  private readonly listeners: ((leader: boolean) => void)[] = [];
  private readonly interval: number;
  private readonly validity: number;
  private leader = false;
  private token: string | null = null;
  /** A take that answered after stop(): its lease is ours to release. */
  private takenAfterStop: string | null = null;
  /** `now()` after which we no longer believe we lead. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private unsubscribe: (() => void) | null = null;

  private readonly now: () => number;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.now = options.now ?? (() => performance.now());
    this.interval = options.leaseTtl / 3;
    this.validity = (options.leaseTtl * 5) / 6;
  }

  /** The token of the lease this node holds (the fencing token where the store has one), or `null`. */
  get heldToken(): string | null {
    return this.isLeader() ? this.token : null;
  }

  /** Starts the loop with one take, answered before this resolves. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.takenAfterStop = null;
    this.unsubscribe = this.options.notifier?.subscribe((m) => m.type === 'leader' && void this.tryNow()) ?? null;
    await this.tryNow();
  }

  /**
   * Ends the loop, waits for a take in flight and resigns. Resolves the token
   * of the lease this node may still hold in the store (held, or taken by the
   * take in flight), for the peer to release, or `null`.
   */
  async stop(): Promise<string | null> {
    if (this.stopped) return null;
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.clearTimer();
    await this.inFlight;
    const token = this.takenAfterStop ?? (this.leader ? this.token : null);
    this.takenAfterStop = null;
    this.set(false);
    return token;
  }

  /** Whether this node leads now: checked against the belief's end too, in case the deadline timer runs late. */
  isLeader(): boolean {
    return this.leader && this.now() < this.validUntil;
  }

  /** Listens for changes of leadership. */
  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Takes or renews now (or right after the take in flight), then re-arms the timer. */
  tryNow(): Promise<void> {
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
      // The lease loop alone keeps no process alive: the store's connections and the scheduler's loops do.
      this.timer = setTimeout(() => void this.tryNow(), next).unref();
    });
    return this.inFlight;
  }

  /** One take-or-renew; returns the delay until the next one. */
  private async attempt(): Promise<number> {
    const retry = Math.min(this.interval, 1_000);
    if (this.options.ready && !this.options.ready()) return retry;
    const sentAt = this.now();
    try {
      const take = this.options.take();
      const token = this.options.bounded === false ? await take : await within(take, this.interval, this.options.what ?? 'leader lease');
      const valid = sentAt + this.validity;
      if (this.stopped) {
        this.takenAfterStop = token;
        return 0;
      }
      if (token !== null && this.now() < valid) this.hold(token, valid);
      else this.set(false);
      return Math.max(0, sentAt + this.interval - this.now());
    } catch (error) {
      if (this.leader) this.logger.warn(`leader lease renewal failed, resigning: ${error instanceof Error ? error.message : String(error)}`);
      this.set(false);
      this.options.failed?.();
      return retry;
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
    }, validUntil - this.now()).unref();
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

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
