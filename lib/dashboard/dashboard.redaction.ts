import type { JsonValue } from '../common/json.js';
import type { DashboardRedact } from './dashboard.options.js';

/** What a hidden value shows. @publicApi */
export const DASHBOARD_REDACTED = '[redacted]';

/**
 * A copy of `value` with what `redact` names hidden: keys at any depth
 * (strings compared case-insensitively, RegExps tested on the key), or the
 * function's answer. A function that throws hides the whole value.
 * @internal
 */
export function redactJson(value: JsonValue, redact: DashboardRedact): JsonValue {
  if (typeof redact === 'function') {
    try {
      return redact(structuredClone(value));
    } catch {
      return DASHBOARD_REDACTED;
    }
  }
  const names = new Set(redact.filter((key): key is string => typeof key === 'string').map((key) => key.toLowerCase()));
  const patterns = redact.filter((key): key is RegExp => key instanceof RegExp);
  const hidden = (key: string): boolean => names.has(key.toLowerCase()) || patterns.some((pattern) => test(pattern, key));
  const walk = (item: JsonValue): JsonValue => {
    if (Array.isArray(item)) return item.map(walk);
    if (item === null || typeof item !== 'object') return item;
    return Object.fromEntries(Object.entries(item).map(([key, inner]) => [key, hidden(key) ? DASHBOARD_REDACTED : walk(inner as JsonValue)]));
  };
  return walk(value);
}

/** A RegExp's test that a global or sticky flag cannot make stateful. */
function test(pattern: RegExp, key: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(key);
}
