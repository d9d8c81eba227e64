import { parseDuration, type Duration } from '../common/duration.js';
import type { BackoffFunction, BackoffOption, BackoffPolicy } from '../decorators/job-options.js';
import { exponentialBackoff } from '../execution/backoff.js';
import type { OptionFailure } from '../common/option-failure.js';
import { shown } from '../common/shown.js';

const POLICY_KEYS = new Set(['type', 'delay', 'max', 'factor', 'jitter']);
/** `max` of an exponential policy that gives none: the default backoff's cap. */
const DEFAULT_MAX = 3_600_000;
/** `jitter: true`: the default backoff's spread. */
const DEFAULT_JITTER = 0.2;

/**
 * Turns a job's `backoff` option into the function that computes its retry
 * delays: a function as given, a duration as a fixed delay, a
 * {@link BackoffPolicy} as described; `fallback` (a worker's `backoff()`
 * method, a handler's backoff) or the default exponential backoff when
 * there is none.
 * @internal
 */
export function resolveBackoff(backoff: BackoffOption | undefined, fail: OptionFailure, fallback?: BackoffFunction): BackoffFunction {
  if (typeof backoff === 'function') return backoff;
  if (backoff === undefined) return fallback ?? ((attempt) => exponentialBackoff(attempt));
  if (isPolicy(backoff)) return resolvePolicy(backoff, fail);
  const fixed = duration('backoff', backoff, fail);
  return () => fixed;
}

function isPolicy(backoff: Duration | BackoffPolicy): backoff is BackoffPolicy {
  return typeof backoff === 'object' && backoff !== null && !Array.isArray(backoff) && 'type' in backoff;
}

function resolvePolicy(policy: BackoffPolicy, fail: OptionFailure): BackoffFunction {
  for (const key of Object.keys(policy)) {
    if (!POLICY_KEYS.has(key)) fail(`backoff.${key}`, 'is not a backoff option (type, delay, max, factor, jitter)');
  }
  if (policy.type !== 'fixed' && policy.type !== 'exponential') {
    fail('backoff.type', `must be 'fixed' or 'exponential', got ${shown(policy.type)}`);
  }
  if (policy.delay === undefined) fail('backoff.delay', 'is required');
  const delay = duration('backoff.delay', policy.delay, fail);
  const jitter = policy.jitter === true ? DEFAULT_JITTER : (policy.jitter ?? false) === false ? 0 : policy.jitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    fail('backoff.jitter', `must be true, false or a fraction from 0 to 1, got ${shown(policy.jitter)}`);
  }
  if (policy.type === 'fixed') {
    for (const key of ['max', 'factor'] as const) {
      if (policy[key] !== undefined) fail(`backoff.${key}`, "only applies to type 'exponential'");
    }
    return (attempt) => exponentialBackoff(attempt, { base: delay, factor: 1, max: delay * (1 + jitter), jitter });
  }
  const max = policy.max === undefined ? Math.max(DEFAULT_MAX, delay) : duration('backoff.max', policy.max, fail);
  if (max < delay) fail('backoff.max', `must be at least delay (${delay} ms), got ${max} ms`);
  const factor = policy.factor ?? 2;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    fail('backoff.factor', `must be a number of at least 1, got ${shown(policy.factor)}`);
  }
  return (attempt) => exponentialBackoff(attempt, { base: delay, max, factor, jitter });
}

function duration(option: string, value: Duration, fail: OptionFailure): number {
  try {
    return parseDuration(value);
  } catch (error) {
    return fail(option, (error as Error).message);
  }
}
