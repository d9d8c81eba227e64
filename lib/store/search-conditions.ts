import type { JsonValue } from '../common/json.js';
import { unstorableText } from '../common/storable-text.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import type { JobArgsCondition, JobFilter } from './job.types.js';

/**
 * Whether `args` meets every condition: the value at each path (object keys
 * only) is the condition's value, of the same JSON type. What every store
 * implements, and what the memory store runs.
 * @internal
 */
export function argsMatch(args: JsonValue, conditions: readonly JobArgsCondition[]): boolean {
  return conditions.every(({ path, value }) => {
    let at: JsonValue | undefined = args;
    for (const key of path) {
      // An array is never walked into: PostgreSQL's containment cannot index one by position.
      if (at === null || typeof at !== 'object' || Array.isArray(at) || !Object.hasOwn(at, key)) return false;
      at = at[key];
    }
    return at === value;
  });
}

/**
 * `text` with its ASCII letters lowered, and only those: what `lower()` does
 * in SQLite, in Lua, and in PostgreSQL under the C collation, so every store
 * agrees on what "case-insensitive" means.
 * @internal
 */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/**
 * Whether `name` contains `text`, ignoring the case of ASCII letters.
 * @internal
 */
export function nameContains(name: string, text: string): boolean {
  return asciiLower(name).includes(asciiLower(text));
}

/**
 * Checks the search fields of a filter (`args`, `nameContains`, `tags`) and
 * a count's cap, so every store refuses the same input with the same error.
 * @throws InvalidArgumentError
 * @internal
 */
export function checkSearchFilter(filter: JobFilter, cap?: number): void {
  for (const field of ['name', 'nameOrSchedule', 'queue'] as const) {
    const value = filter[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new InvalidArgumentError(field, 'must be a string');
    searchable(field, value);
  }
  for (const condition of filter.args ?? []) {
    const { path, value } = condition ?? {};
    if (!Array.isArray(path) || path.length === 0 || path.some((key) => typeof key !== 'string' || key === ''))
      throw new InvalidArgumentError('args', 'each condition needs a path of one or more non-empty keys');
    const scalar = value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
    if (!scalar) throw new InvalidArgumentError('args', `the value at ${path.join('.')} must be a string, a finite number, true, false or null`);
    for (const key of path) searchable('args', key);
    if (typeof value === 'string') searchable('args', value);
  }
  if (filter.nameContains !== undefined && (!Array.isArray(filter.nameContains) || filter.nameContains.some((text) => typeof text !== 'string')))
    throw new InvalidArgumentError('nameContains', 'must be a list of strings');
  for (const text of filter.nameContains ?? []) searchable('nameContains', text);
  if (filter.tags !== undefined && (!Array.isArray(filter.tags) || filter.tags.some((tag) => typeof tag !== 'string')))
    throw new InvalidArgumentError('tags', 'must be a list of strings');
  for (const tag of filter.tags ?? []) searchable('tags', tag);
  if (cap !== undefined && (!Number.isInteger(cap) || cap < 1)) throw new InvalidArgumentError('cap', `must be a positive integer, got ${String(cap)}`);
}

/**
 * Text a filter compares with what is stored: refused when it holds U+0000 or
 * a lone surrogate, which no stored name, tag or argument holds (checkNewJobs
 * refuses them), and which PostgreSQL (U+0000) and Redis's cjson (a lone
 * surrogate) cannot even read in a query. @throws InvalidArgumentError
 * @internal
 */
export function searchable(argument: string, text: string): void {
  const problem = unstorableText(text);
  if (problem) throw new InvalidArgumentError(argument, `must not contain ${problem} (no stored job holds it)`);
}
