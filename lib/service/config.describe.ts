import type { JsonValue } from '../common/json.js';
import { optionAt, sourceOf, sourceOfValue, type ConfigSource } from '../config/env-sources.js';
import { redactValue } from '../config/env-values.js';
import type { ResolvedOptions, SchedulerModuleOptions } from '../scheduler.options.js';

/**
 * One effective option: its value (durations in milliseconds, secrets
 * redacted) and where it came from.
 * @publicApi
 */
export interface ConfigEntry {
  /** The option path, e.g. `pollInterval`, `store.url`. */
  readonly option: string;
  readonly value: JsonValue;
  readonly source: ConfigSource;
  /** The variables it was read from, when `source` is `env`. */
  readonly variable?: string;
}

/** What `SchedulerService.describeConfig()` returns, in a fixed order. @publicApi */
export type ConfigDescription = readonly ConfigEntry[];

type Row = [option: string, value: (r: ResolvedOptions) => JsonValue, given?: (g: SchedulerModuleOptions) => unknown];

const ROWS: Row[] = [
  ['queues', (r) => (r.queues ? Object.fromEntries([...r.queues].map(([name, spec]) => [name, spec.concurrency])) : false)],
  ['enabled', (r) => r.enabled],
  ['peer', (r) => r.peer, (g) => (typeof g.peer === 'boolean' ? g.peer : undefined)],
  ['peer.leaseTtl', (r) => r.leaseTtl],
  ['nodeName', (r) => r.nodeName],
  ['pollInterval', (r) => r.pollInterval],
  ['shutdownGracePeriod', (r) => r.shutdownGracePeriod],
  ['misfireThreshold', (r) => r.misfireThreshold],
  ['defaults.timeout', (r) => r.defaults.timeout ?? false],
  ['defaults.maxRetries', (r) => r.defaults.maxRetries],
  ['defaults.backoff', (r) => (typeof r.defaults.backoffOption === 'function' ? 'function' : (r.defaults.backoffOption as JsonValue))],
  ['lifeline.heartbeat', (r) => r.heartbeatInterval],
  ['lifeline.rescueAfter', (r) => r.rescueAfter],
  ['lifeline.interval', (r) => r.rescueInterval],
  ['retention.completed', (r) => r.keepCompleted],
  ['retention.interval', (r) => r.pruneInterval],
  ['deadLetters.maxAge', (r) => r.deadLetters.maxAge ?? false, (g) => optionAt(g, 'deadLetters.maxAge') ?? optionAt(g, 'retention.dead')],
  ['deadLetters.maxEntries', (r) => r.deadLetters.maxEntries ?? false],
  ['middleware', (r) => r.middleware.map((type) => type.name)],
  ['circuitBreakers', (r) => [...r.circuitBreakers.keys()]],
];

/**
 * The effective options of a running scheduler and the source of each
 * (`code`, `env`, `default`); secrets (URL passwords, keys, tokens) redacted.
 * @internal
 */
export function describeConfig(resolved: ResolvedOptions): ConfigDescription {
  const given = resolved.given;
  const entries: ConfigEntry[] = storeEntries(given);
  for (const [option, value, pick] of ROWS) {
    const { source, variable } = sourceOfValue(given, option, pick ? pick(given) : optionAt(given, option));
    entries.push({ option, value: value(resolved), source, ...(variable ? { variable } : {}) });
  }
  return entries;
}

function storeEntries(given: SchedulerModuleOptions): ConfigEntry[] {
  const store = given.store;
  const entry = (option: string, value: JsonValue, found: { source: ConfigSource; variable?: string }): ConfigEntry => ({
    option,
    value,
    source: found.source,
    ...(found.variable ? { variable: found.variable } : {}),
  });
  if (store === undefined || typeof store === 'string') return [entry('store.type', 'memory', sourceOf(given, 'store'))];
  if (typeof store === 'function' || !('type' in store)) return [entry('store.type', 'custom', { source: 'code' })];
  const entries = [entry('store.type', store.type, sourceOf(given, 'store.type'))];
  for (const [key, value] of Object.entries(store)) {
    if (key === 'type' || value === undefined) continue;
    entries.push(entry(`store.${key}`, display(key, value), sourceOf(given, `store.${key}`)));
  }
  return entries;
}

/** Plain values as they are (strings redacted by name and URL); objects such as a DataSource or a client by their class. */
function display(key: string, value: unknown): JsonValue {
  if (typeof value === 'string') return redactValue(key, value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'function') return 'function';
  return `[${(value as object).constructor?.name ?? 'object'}]`;
}
