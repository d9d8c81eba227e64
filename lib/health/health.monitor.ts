import type { Clock } from '../clock/clock.js';
import type { Peer } from '../peer/peer.js';
import { judgeDeaths, judgeFlag, judgeLag, judgeLeader, judgeLoop, judgePing, judgeStuck, worst } from './health.checks.js';
import { readRecentDeaths, readStuck, type HealthStore } from './health.stats.js';
import { READ_TIMEOUT_MS, type QueueStatsReader } from './queue-stats.reader.js';
import type {
  DeadLettersCheckOptions,
  HealthCheckName,
  HealthCheckResult,
  HealthPreset,
  LagCheckOptions,
  LeaderCheckOptions,
  LoopCheckOptions,
  SchedulerHealthOptions,
  SchedulerHealthReport,
  StoreCheckOptions,
  StuckCheckOptions,
} from './health.types.js';
import { TtlCache, withinMs } from './ttl.cache.js';
import { checkHealthOptions } from './health.options.js';

/**
 * What the health checks read: the store, the peer, and the node's own state.
 * @internal
 */
export interface HealthPorts {
  node: string;
  clock: Clock;
  pollInterval: number;
  leaseTtl: number;
  rescueAfter: number;
  store: HealthStore;
  peer: Pick<Peer, 'isLeader' | 'leaderNode'>;
  /** The queues' counts and lags, shared with the metrics. */
  queueStats: Pick<QueueStatsReader, 'read' | 'last'>;
  /** Since when the planner loop or a queue's claim has been held up (epoch ms), `null` when neither is. */
  stalledSince(): number | null;
  /** The store's `init()` (its migrations) resolved. */
  initialized(): boolean;
  /** The scheduler's start completed. */
  started(): boolean;
  /** The node is shutting down. */
  stopping(): boolean;
}

/** Shared reads (queue lag, running jobs, dead letters) are reused this long. */
const STATS_CACHE_MS = 5_000;
const ALL: readonly HealthCheckName[] = ['loop', 'store', 'leader', 'lag', 'stuck', 'deadLetters'];
const PRESETS: Record<HealthPreset, readonly HealthCheckName[]> = {
  liveness: ['loop'],
  readiness: ['store', 'started', 'draining'],
  startup: ['discovery', 'migrations'],
};

/**
 * This node's health checks (see docs/health.md): `loop` reads memory only;
 * `store` pings (one ping per `cacheMs`); `leader` reads the lease (cached);
 * `lag`, `stuck` and `deadLetters` share reads cached for 5 s.
 * @internal
 */
export class HealthMonitor {
  private readonly cache: TtlCache;
  private leaderlessSince: number | null = null;
  private lastLeader: string | null = null;

  constructor(private readonly ports: HealthPorts) {
    this.cache = new TtlCache(ports.clock);
  }

  /** Runs the checks `options.checks` names (the six by default) and gathers them in one report. */
  async report(given?: SchedulerHealthOptions | null): Promise<SchedulerHealthReport> {
    const options = checkHealthOptions(given);
    const names = typeof options.checks === 'string' ? PRESETS[options.checks] : (options.checks ?? ALL);
    const results = await Promise.all(names.map(async (name) => [name, await this.check(name, options)] as const));
    const checks: SchedulerHealthReport['checks'] = Object.fromEntries(results);
    const status = results.reduce((state, [, result]) => worst(state, result.status), 'up' as SchedulerHealthReport['status']);
    const queues = (await this.ports.queueStats.last())?.map((reading) => reading.lag) ?? null;
    return { status, node: this.ports.node, leader: { self: this.ports.peer.isLeader(), node: this.knownLeader() }, queues, checks };
  }

  /** One check by name. */
  check(name: HealthCheckName, options: SchedulerHealthOptions = {}): Promise<HealthCheckResult> {
    switch (name) {
      case 'loop':
        return Promise.resolve(this.loop(options.loop));
      case 'store':
        return this.store(options.store);
      case 'leader':
        return this.leader(options.leader);
      case 'lag':
        return this.lag(options.lag);
      case 'stuck':
        return this.stuck(options.stuck);
      case 'deadLetters':
        return this.deadLetters(options.deadLetters);
      case 'started':
        return Promise.resolve(judgeFlag(this.ports.started(), 'the scheduler has not finished starting'));
      case 'draining':
        return Promise.resolve(judgeFlag(!this.ports.stopping(), 'the node is shutting down (draining its queues)'));
      case 'discovery':
        // This monitor exists once discovery ran and the scheduler was composed.
        return Promise.resolve({ status: 'up' });
      case 'migrations':
        return this.migrations();
    }
  }

  private loop(options: LoopCheckOptions = {}): HealthCheckResult {
    return judgeLoop(this.ports.stalledSince(), this.ports.clock.now(), options.maxStallMs ?? 3 * this.ports.pollInterval);
  }

  private store(options: StoreCheckOptions = {}): Promise<HealthCheckResult> {
    const { timeoutMs = 1_000, slowMs = 250, cacheMs = 5_000 } = options;
    return this.cache.get(`store:${timeoutMs}:${slowMs}`, cacheMs, async () => {
      const { clock, store } = this.ports;
      const sent = clock.now();
      try {
        await withinMs(store.ping(), timeoutMs, clock, 'the store ping');
        return judgePing({ ms: clock.now() - sent }, slowMs);
      } catch (error) {
        return judgePing({ error: (error as Error).message }, slowMs);
      }
    });
  }

  private async migrations(): Promise<HealthCheckResult> {
    if (!this.ports.initialized()) return { status: 'down', message: 'the store has not been initialised yet' };
    const store = await this.store();
    return store.status === 'down' ? { status: 'down', message: `the store does not answer: ${store.message}` } : { status: 'up' };
  }

  private async leader(options: LeaderCheckOptions = {}): Promise<HealthCheckResult> {
    const { clock, peer, node } = this.ports;
    const graceMs = options.graceMs ?? 2 * this.ports.leaseTtl;
    let leader: string | null;
    try {
      leader = peer.isLeader()
        ? node
        : await this.cache.get('leader', STATS_CACHE_MS, () => withinMs(peer.leaderNode(), READ_TIMEOUT_MS, clock, 'reading the leader'));
    } catch (error) {
      return { status: 'down', message: `reading the leader lease failed: ${(error as Error).message}` };
    }
    const now = clock.now();
    this.lastLeader = leader;
    if (leader !== null) this.leaderlessSince = null;
    else this.leaderlessSince ??= now;
    return judgeLeader(leader, this.leaderlessSince, now, graceMs);
  }

  private async lag(options: LagCheckOptions = {}): Promise<HealthCheckResult> {
    const { warnMs = 60_000, failMs = 300_000 } = options;
    try {
      const readings = await this.ports.queueStats.read(STATS_CACHE_MS);
      return judgeLag(
        readings.map((reading) => reading.lag),
        warnMs,
        failMs,
        options.queues,
      );
    } catch (error) {
      return storeReadFailed(error);
    }
  }

  private async stuck(options: StuckCheckOptions = {}): Promise<HealthCheckResult> {
    const { maxCount = 10 } = options;
    return this.read(
      'stuck',
      () => readStuck(this.ports.store, this.ports.clock.now(), this.ports.rescueAfter),
      (jobs) =>
        judgeStuck(
          jobs.map((job) => job.id),
          maxCount,
        ),
    );
  }

  private async deadLetters(options: DeadLettersCheckOptions = {}): Promise<HealthCheckResult> {
    const { windowMs = 3_600_000, max = 10 } = options;
    // One more than `max`, to tell "more than max" from "max".
    return this.read(
      `dead:${max + 1}`,
      () => readRecentDeaths(this.ports.store, max + 1),
      (deaths) => judgeDeaths(deaths, this.ports.clock.now(), windowMs, max),
    );
  }

  /** A shared read, judged; a read that fails is down (the state cannot be known). */
  private async read<T>(key: string, load: () => Promise<T>, judge: (value: T) => HealthCheckResult): Promise<HealthCheckResult> {
    try {
      return judge(await this.cache.get(key, STATS_CACHE_MS, () => withinMs(load(), READ_TIMEOUT_MS, this.ports.clock, 'the store')));
    } catch (error) {
      return storeReadFailed(error);
    }
  }

  /** The leader as last known, without a read: this node when it leads. */
  private knownLeader(): string | null {
    return this.ports.peer.isLeader() ? this.ports.node : this.lastLeader;
  }
}

/** A check whose store read failed is down: the state cannot be known. */
function storeReadFailed(error: unknown): HealthCheckResult {
  return { status: 'down', message: `reading the store failed: ${(error as Error).message}` };
}
