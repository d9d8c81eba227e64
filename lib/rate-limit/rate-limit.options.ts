import { parseDuration, type Duration } from '../common/duration.js';
import type { OptionFailure } from '../common/option-failure.js';
import type { RateLimitSpec } from './token-bucket.js';
import { shown } from '../common/shown.js';

/**
 * At most `limit` jobs started per `per`: a token bucket of `limit` tokens
 * (full at first, so a burst of `limit` may start at once) refilled
 * continuously at `limit / per`.
 * @publicApi
 */
export interface RateLimit {
  /** Tokens in the bucket, and tokens gained per `per`: an integer from 1 to 1,000,000. */
  limit: number;
  /** The period of `limit` (e.g. `'1m'`, `1000`): at least 1 ms, at most 30 days. */
  per: Duration;
}

/**
 * The module's rate limits (`rateLimits` of `SchedulerModule.forRoot`). A job
 * starts only when every bucket that applies to it (the global one, its
 * queue's, its name's) holds a token, and takes one from each.
 * @publicApi
 */
export interface RateLimitsOptions {
  /** By queue name (configured queues only). @default {} */
  queues?: Record<string, RateLimit>;
  /** By job name, whatever queue the job runs on; the same bucket as a job's own `rateLimit` option (set one or the other). @default {} */
  jobs?: Record<string, RateLimit>;
  /** One bucket for every job of every queue. @default none */
  global?: RateLimit;
}

/**
 * Which kind of bucket `scheduler.rateLimits.status()` reads.
 * @publicApi
 */
export type RateLimitKind = 'queues' | 'jobs' | 'global';

/**
 * The module's limits, resolved.
 * @internal
 */
export interface ResolvedRateLimits {
  queues: Map<string, RateLimitSpec>;
  jobs: Map<string, RateLimitSpec>;
  global: RateLimitSpec | null;
}

const MAX_LIMIT = 1_000_000;
const MAX_PER_MS = 30 * 86_400_000;

/**
 * Checks one `{ limit, per }` and turns it into a bucket's shape.
 * @internal
 */
export function resolveRateLimit(option: string, value: unknown, fail: OptionFailure): RateLimitSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(option, `must be { limit, per }, got ${shown(value)}`);
  const { limit, per } = value as Partial<RateLimit>;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    fail(`${option}.limit`, `must be an integer from 1 to ${MAX_LIMIT}, got ${shown(limit)}`);
  }
  if (per === undefined) fail(`${option}.per`, "is required (a duration, e.g. '1m')");
  let perMs: number;
  try {
    perMs = parseDuration(per);
  } catch (error) {
    return fail(`${option}.per`, (error as Error).message);
  }
  if (!(perMs >= 1 && perMs <= MAX_PER_MS)) fail(`${option}.per`, `must be from 1 ms to 30 days, got ${perMs} ms`);
  return { capacity: limit, refillPerSecond: (limit * 1000) / perMs };
}

/**
 * Checks the module's `rateLimits` (queue names against `queueNames`, when
 * this node knows its queues) and resolves them.
 * @internal
 */
export function resolveRateLimits(options: RateLimitsOptions | undefined, queueNames: ReadonlySet<string> | null, fail: OptionFailure): ResolvedRateLimits {
  const resolved: ResolvedRateLimits = { queues: new Map(), jobs: new Map(), global: null };
  if (options === undefined) return resolved;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return fail('rateLimits', 'must be { queues?, jobs?, global? }');
  for (const key of Object.keys(options)) {
    if (!['queues', 'jobs', 'global'].includes(key)) fail(`rateLimits.${key}`, "unknown; expected 'queues', 'jobs' or 'global'");
  }
  for (const kind of ['queues', 'jobs'] as const) {
    const group = options[kind];
    if (group === undefined) continue;
    if (typeof group !== 'object' || group === null || Array.isArray(group)) fail(`rateLimits.${kind}`, 'must be an object of name → { limit, per }');
    for (const [name, value] of Object.entries(group)) {
      if (!name.trim()) fail(`rateLimits.${kind}`, 'a name must not be empty');
      if (kind === 'queues' && queueNames && !queueNames.has(name)) {
        fail(`rateLimits.queues.${name}`, `unknown queue "${name}"; configured queues: ${[...queueNames].join(', ')}`);
      }
      resolved[kind].set(name, resolveRateLimit(`rateLimits.${kind}.${name}`, value, fail));
    }
  }
  if (options.global !== undefined) resolved.global = resolveRateLimit('rateLimits.global', options.global, fail);
  return resolved;
}
