import { createHash } from 'node:crypto';
import { parseDuration } from '../common/duration.js';
import type { JsonValue } from '../common/json.js';
import type { OptionFailure } from '../common/option-failure.js';
import type { UniqueBy, UniqueOption } from '../decorators/job-options.js';
import { DEFAULT_UNIQUE_STATES, type UniqueState } from '../store/job.types.js';
import { shown } from '../common/shown.js';

/**
 * A `unique` option checked and normalised: `by` in a fixed order (name,
 * queue, args, arg keys), `period` in milliseconds.
 * @internal
 */
export interface ResolvedUnique {
  /** `unique: true` itself (a schedule then skips overlapping ticks by its own key). */
  legacy: boolean;
  key: string | null;
  by: readonly ('name' | 'queue' | 'args')[];
  /** Top-level argument keys, from every `{ args: [...] }`. */
  argKeys: readonly string[];
  states: readonly UniqueState[];
  period: number | null;
}

const STATES = new Set<string>(['scheduled', 'available', 'running', 'completed']);
const FIELDS = ['name', 'queue', 'args'] as const;
const OPTION_KEYS = new Set(['key', 'by', 'states', 'period']);

/**
 * Checks a `unique` option (decorator, runtime schedule or enqueue call);
 * `null` for `false` or none. `fail` throws the caller's error type.
 * @internal
 */
export function resolveUnique(value: UniqueOption | undefined, fail: OptionFailure, option = 'unique'): ResolvedUnique | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { legacy: true, key: null, by: ['name', 'args'], argKeys: [], states: DEFAULT_UNIQUE_STATES, period: null };
  if (typeof value === 'string') {
    if (!value) fail(option, 'must not be an empty key');
    return { legacy: false, key: value, by: [], argKeys: [], states: DEFAULT_UNIQUE_STATES, period: null };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(option, `must be true, false, a key string or { key?, by?, states?, period? }, got ${shown(value)}`);
  }
  for (const name of Object.keys(value)) if (!OPTION_KEYS.has(name)) fail(`${option}.${name}`, 'is not a unique option (key, by, states, period)');
  const key = value.key ?? null;
  if (key !== null && (typeof key !== 'string' || !key)) fail(`${option}.key`, 'must be a non-empty string');
  const { by, argKeys } = resolveBy(value.by, key !== null, fail, `${option}.by`);
  const states = value.states ?? DEFAULT_UNIQUE_STATES;
  if (!Array.isArray(states) || states.length === 0 || states.some((s) => !STATES.has(s as string))) {
    fail(`${option}.states`, `must be a non-empty list of 'scheduled', 'available', 'running', 'completed', got ${shown(value.states)}`);
  }
  let period: number | null = null;
  if (value.period !== undefined) {
    try {
      period = parseDuration(value.period);
    } catch (error) {
      fail(`${option}.period`, (error as Error).message);
    }
    if (!(period! > 0)) fail(`${option}.period`, 'must be longer than zero');
  }
  return { legacy: false, key, by, argKeys, states: [...new Set(states)], period };
}

function resolveBy(value: UniqueBy | UniqueBy[] | undefined, keyed: boolean, fail: OptionFailure, option: string): Pick<ResolvedUnique, 'by' | 'argKeys'> {
  if (value === undefined) return keyed ? { by: [], argKeys: [] } : { by: ['name', 'args'], argKeys: [] };
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) fail(option, 'must name at least one of name, queue, args or { args: [keys] }');
  const fields = new Set<string>();
  const argKeys = new Set<string>();
  for (const item of list) {
    if (typeof item === 'string' && (FIELDS as readonly string[]).includes(item)) fields.add(item);
    else if (item && typeof item === 'object' && Array.isArray(item.args) && item.args.length > 0 && item.args.every((k) => typeof k === 'string' && k)) {
      for (const k of item.args) argKeys.add(k);
    } else {
      fail(option, `must be 'name', 'queue', 'args' or { args: [non-empty keys] } (or a list of them), got ${shown(item)}`);
    }
  }
  return { by: FIELDS.filter((f) => fields.has(f)), argKeys: [...argKeys] };
}

/**
 * The unique key of one job. `unique: true` keeps the form it always had
 * (`name:hash-of-args`), so keys stored before an upgrade still collide with
 * new ones. Arguments are hashed (SHA-1, 16 hex digits) so a key stays short
 * whatever their size. `argsText` is their JSON text when the caller has it.
 * @throws the error `fail` throws when `{ args: [...] }` picks keys of arguments that are not an object
 * @internal
 */
export function uniqueKeyOf(unique: ResolvedUnique, job: { name: string; queue: string; args: JsonValue }, fail: OptionFailure, argsText?: string): string {
  const parts: string[] = unique.key === null ? [] : [unique.key];
  if (unique.by.includes('name')) parts.push(job.name);
  if (unique.by.includes('queue')) parts.push(`queue=${job.queue}`);
  if (unique.by.includes('args')) parts.push(hash(argsText ?? JSON.stringify(job.args)));
  if (unique.argKeys.length > 0) {
    const args = job.args;
    if (args === null || typeof args !== 'object' || Array.isArray(args)) fail('unique.by', 'picks argument keys, but the arguments are not an object');
    const picked = unique.argKeys.map((k) => (Object.hasOwn(args, k) ? (args as Record<string, JsonValue>)[k]! : null));
    parts.push(`args(${unique.argKeys.join(',')})=${hash(JSON.stringify(picked))}`);
  }
  return parts.join(':');
}

function hash(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}
