import { parseDuration } from '../common/duration.js';
import type { BackoffFunction, JobOptions, MisfirePolicy, Preemptible } from '../decorators/job-options.js';
import type { ResolvedJobOptions } from '../scheduler.registry.js';
import { DEFAULT_QUEUE } from '../scheduler.constants.js';
import type { OptionFailure } from '../common/option-failure.js';
import { resolveBackoff } from './backoff.resolver.js';
import { checkBreakerName } from '../breakers/breaker-settings.resolver.js';
import { resolveJobDefaults, type JobDefaults } from './job-defaults.resolver.js';
import { resolveUnique } from './unique.resolver.js';
import { resolveRateLimit } from '../rate-limit/rate-limit.options.js';
import { unstorableText } from '../common/storable-text.js';
import { MAX_NAME_LENGTH } from './names.js';
import { shown } from '../common/shown.js';

export type { OptionFailure } from '../common/option-failure.js';

const OVERLAPS = new Set(['skip', 'bufferOne', 'allow']);
const BUILT_IN_DEFAULTS = resolveJobDefaults(undefined);

/**
 * Where the options that a job leaves out come from.
 * @internal
 */
export interface JobOptionsContext {
  /** A `@Worker`'s `backoff()` method: the job's own backoff when the options give none. */
  workerBackoff?: BackoffFunction;
  /** The module's `defaults`. @default the built-in defaults */
  defaults?: JobDefaults;
  /** The handler's resolved options (an enqueue, a runtime schedule): its `maxRetries` and backoff, explicit or not, are kept unless overridden. */
  base?: ResolvedJobOptions;
}

/**
 * Validates job options and applies defaults. Used for decorators at
 * bootstrap and for runtime schedules, so both accept exactly the same input.
 * `queues` is the set of configured queues, or `null` when this node runs no
 * jobs (a web node cannot know the workers' queues).
 * @internal
 */
export function resolveJobOptions(
  options: JobOptions,
  fail: OptionFailure,
  queues: ReadonlySet<string> | null,
  context: JobOptionsContext = {},
): ResolvedJobOptions {
  const { base, workerBackoff } = context;
  const defaults = context.defaults ?? BUILT_IN_DEFAULTS;
  const queue = options.queue ?? DEFAULT_QUEUE;
  if (typeof queue !== 'string' || !queue.trim()) fail('queue', 'must be a non-empty string');
  // What every job of it must hold (checkNewJobs): refused here, not at each tick or enqueue. A web node (`queues` null) knows no names to check against.
  if (queue.length > MAX_NAME_LENGTH) fail('queue', `must be at most ${MAX_NAME_LENGTH} characters, got ${queue.length}`);
  const unstorable = unstorableText(queue);
  if (unstorable) fail('queue', `must not contain ${unstorable} (the store cannot keep it)`);
  if (queues && !queues.has(queue)) {
    fail('queue', `unknown queue "${queue}"; configured queues: ${[...queues].join(', ') || '(none)'}`);
  }
  const priority = options.priority ?? 0;
  if (!Number.isInteger(priority) || priority < 0 || priority > 9) fail('priority', `must be an integer from 0 to 9, got ${String(priority)}`);
  const maxRetries = options.maxRetries ?? (base ? base.maxAttempts - 1 : defaults.maxRetries);
  if (!Number.isInteger(maxRetries) || maxRetries < 0) fail('maxRetries', `must be a non-negative integer, got ${String(maxRetries)}`);
  const timeout = options.timeout === undefined ? defaults.timeout : options.timeout === false ? null : ms('timeout', options.timeout, fail);
  if (timeout !== null && timeout <= 0) fail('timeout', 'must be greater than zero (false: no timeout)');
  const unique = resolveUnique(options.unique, fail);
  const overlap = options.overlap ?? (unique?.legacy ? 'skip' : 'allow');
  if (!OVERLAPS.has(overlap)) fail('overlap', `must be 'skip', 'bufferOne' or 'allow', got ${shown(overlap)}`);
  if (unique?.legacy && options.overlap === 'allow') fail('overlap', "'allow' contradicts unique: true");
  // A tick's job holds one unique key: the schedule's own (overlap 'skip') or the one `unique` derives.
  if (unique && !unique.legacy && overlap === 'skip') {
    fail('overlap', "'skip' cannot be combined with a unique key or object; its states already say which runs block a tick");
  }
  if (options.tags !== undefined && (!Array.isArray(options.tags) || options.tags.some((t) => typeof t !== 'string'))) {
    fail('tags', 'must be an array of strings');
  }
  if (options.meta !== undefined && (typeof options.meta !== 'object' || options.meta === null || Array.isArray(options.meta))) {
    fail('meta', 'must be a JSON object');
  }
  if (options.middleware !== undefined && (!Array.isArray(options.middleware) || options.middleware.some((m) => typeof m !== 'function'))) {
    fail('middleware', 'must be an array of classes');
  }
  return {
    queue,
    priority,
    timeout,
    maxAttempts: maxRetries + 1,
    backoff: resolveBackoff(options.backoff, fail, workerBackoff ?? base?.backoff ?? defaults.backoff),
    explicit: {
      maxRetries: options.maxRetries !== undefined || base?.explicit.maxRetries === true,
      backoff: options.backoff !== undefined || workerBackoff !== undefined || base?.explicit.backoff === true,
    },
    unique,
    overlap,
    misfire: resolveMisfire(options.misfire, fail),
    tags: [...(options.tags ?? [])],
    meta: { ...options.meta },
    middleware: [...(options.middleware ?? [])],
    circuitBreaker: options.circuitBreaker === undefined ? null : checkBreakerName(options.circuitBreaker, fail),
    rateLimit: options.rateLimit === undefined ? null : resolveRateLimit('rateLimit', options.rateLimit, fail),
    preemptible: resolvePreemptible(options.preemptible, base?.preemptible, fail),
  };
}

/**
 * A `preemptible` option checked, or `base` (else `'suspend'`) when unset.
 * @internal
 */
export function resolvePreemptible(value: unknown, base: Preemptible | undefined, fail: OptionFailure): Preemptible {
  if (value === undefined) return base ?? 'suspend';
  if (value !== 'suspend' && value !== 'requeue' && value !== false) fail('preemptible', `must be 'suspend', 'requeue' or false, got ${shown(value)}`);
  return value as Preemptible;
}

/**
 * What a handler's decorator says about when it runs.
 * @internal
 */
export type ScheduleKind = 'ticks' | 'reboot' | 'none';

/**
 * Refuses the options that only act on the ticks of a schedule (`overlap`,
 * `misfire`) when a handler has no cron, every or at: accepted, they would
 * be silently ignored. (`unique` applies to enqueued jobs too.)
 * @internal
 */
export function assertScheduleOptions(options: Pick<JobOptions, 'overlap' | 'misfire'>, schedule: ScheduleKind, fail: OptionFailure): void {
  if (schedule === 'ticks') return;
  const why =
    schedule === 'reboot'
      ? 'does not apply to @reboot, which runs once as each node starts'
      : 'applies only to a schedule (cron, every or at); this handler has none and only runs what is enqueued';
  for (const option of ['overlap', 'misfire'] as const) if (options[option] !== undefined) fail(option, why);
}

/**
 * A handler's resolved options as `JobOptions`, with `overrides` on top: what
 * an enqueue or a runtime schedule starts from before {@link resolveJobOptions}
 * checks it (given the handler's options as `base`, which supplies
 * `maxRetries` and the backoff when the overrides leave them out).
 * @internal
 */
export function overrideJobOptions(
  base: ResolvedJobOptions,
  overrides: Pick<JobOptions, 'queue' | 'priority' | 'maxRetries' | 'timeout' | 'tags' | 'meta' | 'circuitBreaker'>,
): JobOptions {
  return {
    circuitBreaker: overrides.circuitBreaker ?? base.circuitBreaker ?? undefined,
    queue: overrides.queue ?? base.queue,
    priority: overrides.priority ?? base.priority,
    maxRetries: overrides.maxRetries,
    timeout: overrides.timeout ?? base.timeout ?? false,
    tags: overrides.tags ?? base.tags,
    meta: overrides.meta ?? base.meta,
  };
}

function ms(option: string, value: Parameters<typeof parseDuration>[0], fail: OptionFailure): number {
  try {
    return parseDuration(value);
  } catch (error) {
    return fail(option, (error as Error).message);
  }
}

function resolveMisfire(misfire: MisfirePolicy | undefined, fail: OptionFailure): ResolvedJobOptions['misfire'] {
  if (misfire === undefined || misfire === 'runOnce' || misfire === 'skip') return misfire ?? 'runOnce';
  if (typeof misfire === 'object' && misfire !== null && 'catchUp' in misfire) {
    return { catchUp: ms('misfire.catchUp', misfire.catchUp, fail) };
  }
  return fail('misfire', `must be 'runOnce', 'skip' or { catchUp: duration }, got ${shown(misfire)}`);
}
