import { parseDuration } from '../common/duration.js';

/**
 * A `Retry-After` header value as milliseconds from `now`: delay-seconds
 * (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`, never negative);
 * `null` when it is neither.
 * @internal
 */
export function parseRetryAfter(value: unknown, now: number): number | null {
  if (Array.isArray(value)) value = value[0];
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only a date that names its day or month: Date.parse would also take "5" or "1.5" as a year.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * The `Retry-After` header of an HTTP error, read from `error.headers` or
 * `error.response.headers`, either a `Headers`-like object with `get` (fetch,
 * axios) or a plain object (got, axios), matched case-insensitively.
 * @internal
 */
export function retryAfterHeader(error: object, now: number): number | null {
  const response = (error as { response?: unknown }).response;
  for (const holder of [error, response]) {
    if (typeof holder !== 'object' || holder === null) continue;
    const value = header((holder as { headers?: unknown }).headers, 'retry-after');
    if (value !== undefined) return parseRetryAfter(value, now);
  }
  return null;
}

/**
 * An error's own `retryAfter`: milliseconds, a duration string, or a Date
 * (as the time to retry at); `null` when absent or unreadable.
 * @internal
 */
export function ownRetryAfter(error: object, now: number): number | null {
  const value = (error as { retryAfter?: unknown }).retryAfter;
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : Math.max(0, value.getTime() - now);
  if (typeof value !== 'number' && typeof value !== 'string') return null;
  try {
    return parseDuration(value);
  } catch {
    return null;
  }
}

function header(headers: unknown, name: string): unknown {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') {
    try {
      const value: unknown = get.call(headers, name);
      if (value !== undefined && value !== null) return value;
    } catch {
      // A `get` of another shape (a Map keyed otherwise): fall back to the plain lookup.
    }
  }
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}
