import { parseDuration, type Duration } from '../common/duration.js';
import type { BackoffFunction, BackoffOption } from '../decorators/job-options.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import { resolveBackoff } from './backoff.resolver.js';

/**
 * The `defaults` module option: what a job gets when its own options
 * (decorator, runtime schedule, enqueue) say nothing.
 * @publicApi
 */
export interface JobDefaultsOptions {
  /** Abort an attempt after this long (`ctx.signal`, reason `timeout`); `false`: no timeout. @default '5m' */
  timeout?: Duration | false;
  /** Retries after the first attempt fails. @default 3 */
  maxRetries?: number;
  /**
   * Delay before a retry; an exponential policy's `delay` is its base.
   * @default { type: 'exponential', delay: '1s', max: '1h', factor: 2, jitter: true }
   */
  backoff?: BackoffOption;
}

/**
 * Module-wide job defaults, validated, durations in ms.
 * @internal
 */
export interface JobDefaults {
  /** `null`: no timeout. */
  timeout: number | null;
  maxRetries: number;
  /** The backoff as given (for display), and as a function. */
  backoffOption: BackoffOption;
  backoff: BackoffFunction;
}

/**
 * The defaults of seed 003: 5 minutes, 3 retries, exponential from 1 s.
 * @internal
 */
export const DEFAULT_BACKOFF: BackoffOption = { type: 'exponential', delay: '1s', max: '1h', factor: 2, jitter: true };
const DEFAULT_TIMEOUT = 300_000;
const DEFAULT_MAX_RETRIES = 3;
const KEYS = new Set(['timeout', 'maxRetries', 'backoff']);

/**
 * Validates the `defaults` option; throws `SchedulerConfigError`.
 * @internal
 */
export function resolveJobDefaults(options: JobDefaultsOptions | undefined, source = 'SchedulerModule'): JobDefaults {
  const fail = (option: string, detail: string): never => {
    throw new SchedulerConfigError(source, `defaults.${option}`, detail);
  };
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new SchedulerConfigError(source, 'defaults', 'must be an object { timeout?, maxRetries?, backoff? }');
  }
  for (const key of Object.keys(options ?? {})) if (!KEYS.has(key)) fail(key, 'is not a job default (timeout, maxRetries, backoff)');
  const maxRetries = options?.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) fail('maxRetries', `must be a non-negative integer, got ${String(maxRetries)}`);
  const backoffOption = options?.backoff ?? DEFAULT_BACKOFF;
  const backoff = resolveBackoff(backoffOption, fail);
  return { timeout: resolveTimeout(options?.timeout, fail), maxRetries, backoffOption, backoff };
}

function resolveTimeout(value: Duration | false | undefined, fail: (option: string, detail: string) => never): number | null {
  if (value === undefined) return DEFAULT_TIMEOUT;
  if (value === false) return null;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    return fail('timeout', (error as Error).message);
  }
  if (ms <= 0) fail('timeout', 'must be greater than zero (false: no timeout)');
  return ms;
}
