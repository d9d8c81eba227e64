import { parseDuration } from '../common/duration.js';
import type { OptionFailure } from '../common/option-failure.js';
import type { BreakerSettings, CircuitBreakerOptions } from './circuit-breaker.types.js';
import { shown } from '../common/shown.js';

/**
 * Seed 003's defaults: open after 5 failures in a row, half-open after 30 s,
 * closed again after 2 probes succeed.
 * @publicApi
 */
export const CIRCUIT_BREAKER_DEFAULTS: Readonly<BreakerSettings> = Object.freeze({ failureThreshold: 5, successThreshold: 2, resetTimeout: 30_000 });

const KNOWN = new Set(['failureThreshold', 'successThreshold', 'resetTimeout']);
/** A breaker name is stored and sent in notices: kept short and printable. */
const NAME = /^[\w.:/@-]{1,100}$/;

/**
 * Checks a breaker name; `fail` throws the caller's error type.
 * @internal
 */
export function checkBreakerName(name: unknown, fail: OptionFailure, option = 'circuitBreaker'): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    fail(option, `a circuit breaker name is 1 to 100 letters, digits or _ . : / @ -, got ${shown(name)}`);
  }
  return name as string;
}

/**
 * Validates a breaker's options and applies the defaults; `fail` throws the caller's error type.
 * @internal
 */
export function resolveBreakerSettings(options: CircuitBreakerOptions | undefined, fail: OptionFailure, path: string): BreakerSettings {
  if (options === undefined) return { ...CIRCUIT_BREAKER_DEFAULTS };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return fail(path, 'must be an object');
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) fail(`${path}.${key}`, 'is not a circuit breaker option');
  const count = (key: 'failureThreshold' | 'successThreshold'): number => {
    const value = options[key] ?? CIRCUIT_BREAKER_DEFAULTS[key];
    if (!Number.isInteger(value) || value < 1 || value > 1_000_000) fail(`${path}.${key}`, `must be an integer from 1 to 1000000, got ${String(value)}`);
    return value;
  };
  let resetTimeout = CIRCUIT_BREAKER_DEFAULTS.resetTimeout;
  if (options.resetTimeout !== undefined) {
    try {
      resetTimeout = parseDuration(options.resetTimeout);
    } catch (error) {
      fail(`${path}.resetTimeout`, (error as Error).message);
    }
    if (resetTimeout < 1) fail(`${path}.resetTimeout`, 'must be at least 1 ms');
  }
  return { failureThreshold: count('failureThreshold'), successThreshold: count('successThreshold'), resetTimeout };
}
