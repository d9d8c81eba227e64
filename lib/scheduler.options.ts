import type { Type } from '@nestjs/common';
import { unstorableText } from './common/storable-text.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseDuration, type Duration } from './common/duration.js';
import { SystemClock, type Clock } from './clock/clock.js';
import type { JobMiddleware } from './middleware/job-middleware.js';
import type { MemoryStore } from './store/memory.store.js';
import type { CustomStoreOption, StoreFactory } from './store/store-bundle.js';
import { checkStoredName, resolveMaxPayloadBytes } from './store/job-input.validation.js';
import type { MemoryStoreOptions, PostgresStoreOptions, RedisStoreOptions, SqliteStoreOptions } from './store/store-options.js';
import { SchedulerConfigError, type InvalidArgumentError } from './scheduler.errors.js';
import { DEFAULT_QUEUE } from './scheduler.constants.js';
import { checkBreakerName, resolveBreakerSettings } from './breakers/breaker-settings.resolver.js';
import type { BreakerSettings, CircuitBreakerOptions } from './breakers/circuit-breaker.types.js';
import { resolveJobDefaults, type JobDefaults, type JobDefaultsOptions } from './discovery/job-defaults.resolver.js';
import { resolveErrorsOptions } from './errors/errors-options.resolver.js';
import type { ErrorsOptions } from './errors/error-classifier.types.js';
import { resolveDeadLetterOptions, type DeadLetterOptions, type ResolvedDeadLetterOptions } from './dead-letters/dead-letter.options.js';
import { resolveRateLimits, type RateLimitsOptions, type ResolvedRateLimits } from './rate-limit/rate-limit.options.js';
import { resolveMetricsOptions, type MetricsOptions, type ResolvedMetricsOptions } from './telemetry/metrics/metrics.options.js';
import { shown } from './common/shown.js';

/**
 * Per-queue settings.
 * @publicApi
 */
export interface QueueOptions {
  /** Jobs of this queue run at once on this node. */
  concurrency: number;
  /** Overrides the module's `shutdownGracePeriod` for this queue. */
  shutdownGracePeriod?: Duration;
  /**
   * Most jobs claimed ahead of free slots into this node's buffer, so a busy
   * queue claims in batches. The runner starts at the concurrency and adapts:
   * it doubles while jobs are short, and shrinks back when they wait in the
   * buffer. Buffered jobs count as running in the store; they are
   * heartbeated, and handed back at pause or shutdown. `0` claims only free
   * slots. @default 1000 with the PostgreSQL store, 500 with any other
   */
  prefetch?: number;
  /**
   * A job arriving at this queue while every slot is taken, more urgent
   * (a lower priority number) than a running one, takes the slot of the
   * least urgent: that job is asked to yield (`ctx.preempted`), and does so
   * at its next `await ctx.checkpoint()` (or is queued again, with
   * `preemptible: 'requeue'`). See docs/execution.md#preemption. @default false
   */
  preemption?: boolean;
}

/**
 * Lifeline: heartbeats of running jobs and rescue of jobs whose node died.
 * A dead node's jobs are due again at most `rescueAfter + interval` after
 * their last heartbeat: 60 s with the defaults.
 * @publicApi
 */
export interface LifelineOptions {
  /** How often running jobs record a heartbeat. @default '10s' */
  heartbeat?: Duration;
  /**
   * A running job without a heartbeat for this long is rescued. At least
   * twice `heartbeat`, so a late beat is not taken for a dead node. After an
   * outage of the store (no heartbeat could land), a node rescues, for this
   * long after the store answers again, only jobs whose heartbeat had
   * stopped before the outage began. @default '45s'
   */
  rescueAfter?: Duration;
  /** How often the leader looks for jobs to rescue. @default '15s' */
  interval?: Duration;
}

/**
 * How long finished jobs are kept for `history`, `status` and dead letters.
 * @publicApi
 */
export interface RetentionOptions {
  /** Completed, discarded and cancelled jobs. @default '1d' */
  completed?: Duration;
  /** Dead jobs (dead letters): the older name of `deadLetters.maxAge` (give one). @default '30d' */
  dead?: Duration;
  /** How often the pruner runs; a round that fills its batch (10,000) is followed by the next one as soon as it has paused as long as it took, and one that took longer than 1 % of the interval to leave nothing over waits 100 times as long as it took, at most an hour. @default '1m' */
  interval?: Duration;
}

/**
 * Where jobs are kept. `'memory'` (default): in this process, zero set-up.
 * `{ type: 'postgres', url | dataSource, … }`: durable, shared by every node.
 * `{ type: 'redis', url | client, keyPrefix, db }`: shared by every node, as
 * durable as the server's persistence (docs/redis.md).
 * `{ type: 'sqlite', path | dataSource, … }`: durable in one file, shared by the processes of one machine
 * (`dataSource`: the app's TypeORM better-sqlite3 DataSource, whose transactions `enqueue(…, { manager })` joins).
 * A `MemoryStore` instance: the memory store you built (e.g. to look at it
 * in tests). Any other store comes with the peer and notifier that go with
 * it: `{ store, peer, notifier }` (`'local'` for either when only this
 * process uses the store), or a function `(context) => ({ store, peer, notifier })`;
 * a store alone is refused at bootstrap (`IncompleteStoreError`). See docs/custom-stores.md.
 * @publicApi
 */
export type StoreOption =
  'memory' | MemoryStoreOptions | PostgresStoreOptions | RedisStoreOptions | SqliteStoreOptions | MemoryStore | CustomStoreOption | StoreFactory;

/**
 * Options of `SchedulerModule.forRoot` / `forRootAsync`.
 * @publicApi
 */
export interface SchedulerModuleOptions {
  /** @default 'memory' */
  store?: StoreOption;
  /**
   * Queue name → concurrency (or {@link QueueOptions}). `false`: this node
   * runs no jobs (a web node); it can still enqueue and control.
   * @default { default: 10 }
   */
  queues?: Record<string, number | QueueOptions> | false;
  /** `false`: this node never becomes leader (never plans ticks). @default true */
  peer?: boolean | { leaseTtl?: Duration };
  /** How often idle queues look for due jobs when no notification came. @default '1s' */
  pollInterval?: Duration;
  /** How long running jobs may finish after `app.close()`. @default '15s' */
  shutdownGracePeriod?: Duration;
  /** Ticks later than this are misfires (see the `misfire` job option). @default '60s' */
  misfireThreshold?: Duration;
  /** Middleware classes run around every job. @default [] */
  middleware?: Type<JobMiddleware>[];
  /** The source of time. @default the system clock */
  clock?: Clock;
  /** `false`: jobs are discovered and can be enqueued, but nothing plans or runs them (tests drain by hand). @default true */
  enabled?: boolean;
  /** @default see {@link LifelineOptions} */
  lifeline?: LifelineOptions;
  /** @default see {@link RetentionOptions} */
  retention?: RetentionOptions;
  /** @default see {@link DeadLetterOptions} */
  deadLetters?: DeadLetterOptions;
  /** This node's name in the cluster. @default `${hostname}-${pid}-${random}` */
  nodeName?: string;
  /**
   * Named circuit breakers, which jobs use through their `circuitBreaker`
   * option (more may be registered at runtime). Each defaults to seed 003's
   * `{ failureThreshold: 5, successThreshold: 2, resetTimeout: '30s' }`. @default {}
   */
  circuitBreakers?: Record<string, CircuitBreakerOptions>;
  /**
   * What a job gets when its own options say nothing: `timeout`, `maxRetries`, `backoff`.
   * @default { timeout: '5m', maxRetries: 3, backoff: { type: 'exponential', delay: '1s', max: '1h', factor: 2, jitter: true } }
   */
  defaults?: JobDefaultsOptions;
  /** How failures are classified (see docs/errors.md). @default the built-in rules only */
  errors?: ErrorsOptions;
  /**
   * Token buckets by queue, by job name and for everything: a job over a
   * limit waits for its token without spending an attempt. On PostgreSQL
   * one bucket serves the whole cluster. See docs/rate-limits.md. @default none
   */
  rateLimits?: RateLimitsOptions;
  /**
   * OpenTelemetry metrics through `@opentelemetry/api` (the app registers the
   * SDK and exporter). See docs/observability.md#metrics.
   * @default { enabled: true } (nothing is recorded until an SDK is registered)
   */
  metrics?: MetricsOptions;
}

/**
 * Options with defaults applied and durations in milliseconds.
 * @internal
 */
export interface ResolvedOptions {
  /** The options as given (for `describeConfig`, which tells code from env from default). */
  given: SchedulerModuleOptions;
  store: StoreOption;
  /** `null` when this node runs no jobs. */
  queues: Map<string, { concurrency: number; shutdownGracePeriod: number; prefetch: number; preemption: boolean }> | null;
  /** The configured queue names (what job options are checked against), or `null` when this node runs no jobs. */
  queueNames: ReadonlySet<string> | null;
  peer: boolean;
  leaseTtl: number;
  pollInterval: number;
  shutdownGracePeriod: number;
  misfireThreshold: number;
  middleware: Type<JobMiddleware>[];
  clock: Clock;
  enabled: boolean;
  heartbeatInterval: number;
  rescueAfter: number;
  rescueInterval: number;
  keepCompleted: number;
  deadLetters: ResolvedDeadLetterOptions;
  pruneInterval: number;
  nodeName: string;
  /** Configured circuit breakers by name, with defaults applied. */
  circuitBreakers: ReadonlyMap<string, BreakerSettings>;
  defaults: JobDefaults;
  errors: ErrorsOptions;
  rateLimits: ResolvedRateLimits;
  metrics: ResolvedMetricsOptions;
}

const SOURCE = 'SchedulerModule';
/**
 * The default `prefetch`. PostgreSQL claims in larger batches: 1,000 ahead
 * (claims of ~500, as the next is sent at half the buffer) against 500
 * drained 20k jobs faster in 7 of 9 pairs here (median +15 %, a median 4 µs
 * less PostgreSQL CPU per job): each claim re-reads the runnable index's
 * leading entries, and has a fixed cost. A memory-store claim has no round
 * trip to save: 1,000 measured ~5 % slower (more buffered jobs alive through
 * garbage collections), 100 ~4 % slower.
 */
const DEFAULT_PREFETCH = { memory: 500, postgres: 1000 } as const;

function duration(option: string, value: Duration | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    throw new SchedulerConfigError(SOURCE, option, (error as Error).message);
  }
  if (ms < min) throw new SchedulerConfigError(SOURCE, option, `must be at least ${min} ms`);
  return ms;
}

function concurrency(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10_000) {
    throw new SchedulerConfigError(SOURCE, option, `concurrency must be an integer from 1 to 10000, got ${String(value)}`);
  }
  return value;
}

function preemption(option: string, value: unknown): boolean {
  return flag(option, value, false);
}

function flag(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new SchedulerConfigError(SOURCE, option, `must be true or false, got ${shown(value)}`);
  return value;
}

/** A clock handed in must be one: anything else would fail at the first timer, after bootstrap. */
function clockOption(value: unknown): Clock {
  if (value === undefined) return new SystemClock();
  const clock = value as Partial<Record<keyof Clock, unknown>> | null;
  if (typeof clock !== 'object' || clock === null || !(['now', 'setTimeout', 'clearTimeout'] as const).every((key) => typeof clock[key] === 'function')) {
    throw new SchedulerConfigError(SOURCE, 'clock', `must be a Clock (now, setTimeout, clearTimeout), such as FakeClock, got ${shown(value)}`);
  }
  return value as Clock;
}

/** The node's name is stored with every job it claims and in the node registry: the same rule as SCHEDULER_INSTANCE_ID's. */
function nodeNameOption(value: unknown): string {
  if (value === undefined) return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (typeof value !== 'string' || value === '' || value.length > 200 || /\p{Cc}/u.test(value) || unstorableText(value) !== null) {
    throw new SchedulerConfigError(SOURCE, 'nodeName', `must be 1 to 200 characters, without control characters or lone surrogates, got ${shown(value)}`);
  }
  return value;
}

/**
 * Applies defaults and validates module options; throws `SchedulerConfigError`.
 * @internal
 */
export function resolveOptions(options: SchedulerModuleOptions = {}): ResolvedOptions {
  const grace = duration('shutdownGracePeriod', options.shutdownGracePeriod, 15_000);
  const store = options.store ?? 'memory';
  const defaultPrefetch =
    typeof store === 'object' && store !== null && 'type' in store && store.type === 'postgres' ? DEFAULT_PREFETCH.postgres : DEFAULT_PREFETCH.memory;
  let queues: ResolvedOptions['queues'] = null;
  if (options.queues !== false) {
    queues = new Map();
    const entries = Object.entries(options.queues ?? { [DEFAULT_QUEUE]: 10 });
    if (entries.length === 0) throw new SchedulerConfigError(SOURCE, 'queues', 'name at least one queue, or pass false for a node that runs no jobs');
    for (const [name, value] of entries) {
      if (!name.trim()) throw new SchedulerConfigError(SOURCE, 'queues', 'a queue name must not be empty');
      try {
        checkStoredName('queue', name);
      } catch (error) {
        // No job of it could be stored.
        throw new SchedulerConfigError(SOURCE, `queues.${JSON.stringify(name)}`, (error as InvalidArgumentError).detail);
      }
      const spec = typeof value === 'number' ? { concurrency: value } : value;
      const limit = concurrency(`queues.${name}`, spec?.concurrency);
      const prefetch = typeof value === 'number' ? defaultPrefetch : (spec.prefetch ?? defaultPrefetch);
      if (!Number.isInteger(prefetch) || prefetch < 0 || prefetch > 10_000) {
        throw new SchedulerConfigError(SOURCE, `queues.${name}.prefetch`, `must be an integer from 0 to 10000, got ${String(prefetch)}`);
      }
      queues.set(name, {
        concurrency: limit,
        shutdownGracePeriod: duration(`queues.${name}.shutdownGracePeriod`, spec?.shutdownGracePeriod, grace),
        prefetch,
        preemption: typeof value === 'number' ? false : preemption(`queues.${name}.preemption`, spec.preemption),
      });
    }
  }
  if (!(store === 'memory' || typeof store === 'function' || (typeof store === 'object' && store !== null))) {
    throw new SchedulerConfigError(SOURCE, 'store', `unknown store ${shown(store)}`);
  }
  if (typeof store === 'object' && 'type' in store && !['memory', 'postgres', 'redis', 'sqlite'].includes(store.type)) {
    throw new SchedulerConfigError(SOURCE, 'store.type', `must be 'memory', 'postgres', 'redis' or 'sqlite', got ${shown(store.type)}`);
  }
  if (typeof store === 'object' && 'type' in store) {
    resolveMaxPayloadBytes(store.maxPayloadBytes, (detail) => {
      throw new SchedulerConfigError(SOURCE, 'store.maxPayloadBytes', detail);
    });
  }
  if (options.middleware !== undefined && !Array.isArray(options.middleware)) {
    throw new SchedulerConfigError(SOURCE, 'middleware', 'must be an array of classes');
  }
  const peer = options.peer ?? true;
  const queueNames = queues ? new Set(queues.keys()) : null;
  return {
    given: options,
    store,
    queues,
    queueNames,
    peer: peer !== false,
    leaseTtl: duration('peer.leaseTtl', typeof peer === 'object' ? peer.leaseTtl : undefined, 30_000, 100),
    pollInterval: duration('pollInterval', options.pollInterval, 1_000, 1),
    shutdownGracePeriod: grace,
    misfireThreshold: duration('misfireThreshold', options.misfireThreshold, 60_000),
    middleware: options.middleware ?? [],
    clock: clockOption(options.clock),
    enabled: flag('enabled', options.enabled, true),
    ...lifeline(options.lifeline),
    keepCompleted: duration('retention.completed', options.retention?.completed, 86_400_000),
    deadLetters: resolveDeadLetterOptions(options.deadLetters, options.retention?.dead),
    pruneInterval: duration('retention.interval', options.retention?.interval, 60_000, 1),
    nodeName: nodeNameOption(options.nodeName),
    circuitBreakers: circuitBreakers(options.circuitBreakers),
    defaults: resolveJobDefaults(options.defaults, SOURCE),
    errors: resolveErrorsOptions(options.errors, SOURCE),
    rateLimits: resolveRateLimits(options.rateLimits, queueNames, (option, detail) => {
      throw new SchedulerConfigError(SOURCE, option, detail);
    }),
    metrics: resolveMetricsOptions(options.metrics, (option, detail) => {
      throw new SchedulerConfigError(SOURCE, option, detail);
    }),
  };
}

function circuitBreakers(options: SchedulerModuleOptions['circuitBreakers']): Map<string, BreakerSettings> {
  const fail = (option: string, detail: string): never => {
    throw new SchedulerConfigError(SOURCE, option, detail);
  };
  const breakers = new Map<string, BreakerSettings>();
  if (options === undefined) return breakers;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return fail('circuitBreakers', 'must be an object of name → options');
  for (const [name, settings] of Object.entries(options)) {
    checkBreakerName(name, fail, 'circuitBreakers');
    breakers.set(name, resolveBreakerSettings(settings, fail, `circuitBreakers.${name}`));
  }
  return breakers;
}

/** Lifeline defaults (worst case to rescue 45 s + 15 s = 60 s after the last heartbeat), checked against each other. */
function lifeline(options: LifelineOptions | undefined): Pick<ResolvedOptions, 'heartbeatInterval' | 'rescueAfter' | 'rescueInterval'> {
  const heartbeatInterval = duration('lifeline.heartbeat', options?.heartbeat, 10_000, 1);
  const rescueAfter = duration('lifeline.rescueAfter', options?.rescueAfter, 45_000, 1);
  if (rescueAfter < 2 * heartbeatInterval) {
    throw new SchedulerConfigError(
      SOURCE,
      'lifeline.rescueAfter',
      `must be at least twice lifeline.heartbeat (${heartbeatInterval} ms), or live jobs are rescued between two heartbeats; got ${rescueAfter} ms`,
    );
  }
  return { heartbeatInterval, rescueAfter, rescueInterval: duration('lifeline.interval', options?.interval, 15_000, 1) };
}
