import {
  parseEnvBoolean,
  parseEnvDuration,
  parseEnvDurationOrFalse,
  parseEnvInteger,
  parseEnvNumber,
  parseEnvQueues,
  parseEnvUrl,
  EnvValueError,
} from './env-values.js';

/**
 * One `SCHEDULER_*` variable: how it is read and which option it sets. The
 * table is the contract (docs/configuration.md shows it); names are without
 * the prefix.
 * @internal
 */
export interface EnvVariableSpec {
  readonly name: string;
  /** For the docs: what the value looks like. */
  readonly type: string;
  /** For the docs: the value when unset. */
  readonly default: string;
  /** For the docs: the option it sets. */
  readonly option: string;
  /** The option path a plain value is written to; absent when env-config.ts combines it with others. */
  readonly path?: string;
  readonly parse: (raw: string) => unknown;
  /** Only meaningful with this `SCHEDULER_STORE`. */
  readonly store?: 'postgres' | 'redis' | 'sqlite';
  /** A variable of seed 002 (or of the plan) that has no counterpart here: refused, with what to use instead. */
  readonly refused?: string;
}

const STORES = ['memory', 'postgres', 'sqlite', 'redis'] as const;
const text = (raw: string): string => raw;
const identifier = (raw: string): string => raw;
const refuse = (): never => {
  throw new EnvValueError('unreachable');
};

function storeType(raw: string): (typeof STORES)[number] {
  const value = raw.toLowerCase();
  if (!(STORES as readonly string[]).includes(value)) throw new EnvValueError(`must be one of ${STORES.join(', ')}`);
  return value as (typeof STORES)[number];
}

function nodeName(raw: string): string {
  if (raw.length > 200 || /\p{Cc}/u.test(raw)) throw new EnvValueError('must be at most 200 characters, without control characters');
  return raw;
}

function redisKeyPrefix(raw: string): string {
  // Seed 002's default is 'scheduler:'; the Redis store adds its own ':' after the {prefix} hash tag.
  const value = raw.endsWith(':') ? raw.slice(0, -1) : raw;
  if (!value || /[{}]/.test(value)) throw new EnvValueError('must be a non-empty prefix without braces (a trailing ":" is dropped)');
  return value;
}

/** Every variable read, in the order of the docs' table. @internal */
export const ENV_VARIABLES: readonly EnvVariableSpec[] = [
  { name: 'STORE', type: 'memory | postgres | sqlite | redis', default: 'memory', option: 'store.type', parse: storeType },
  { name: 'ENABLED', type: 'boolean', default: 'true', option: 'enabled', path: 'enabled', parse: parseEnvBoolean },
  { name: 'QUEUES', type: 'name:concurrency,… or false', default: 'default:10', option: 'queues', path: 'queues', parse: parseEnvQueues },
  { name: 'WORKERS', type: 'integer 1–10000', default: '10', option: 'queues.default (concurrency)', parse: (raw) => parseEnvInteger(raw, 1, 10_000) },
  { name: 'POLL_INTERVAL', type: 'duration', default: '1s', option: 'pollInterval', path: 'pollInterval', parse: (raw) => parseEnvDuration(raw, { min: 1 }) },
  {
    name: 'SHUTDOWN_GRACE_PERIOD',
    type: 'duration',
    default: '15s',
    option: 'shutdownGracePeriod',
    path: 'shutdownGracePeriod',
    parse: (raw) => parseEnvDuration(raw),
  },
  { name: 'MISFIRE_THRESHOLD', type: 'duration', default: '60s', option: 'misfireThreshold', path: 'misfireThreshold', parse: (raw) => parseEnvDuration(raw) },
  {
    name: 'DEFAULT_TIMEOUT',
    type: 'duration or false',
    default: '5m',
    option: 'defaults.timeout',
    path: 'defaults.timeout',
    parse: (raw) => parseEnvDurationOrFalse(raw, { min: 1 }),
  },
  {
    name: 'RETRY_MAX_ATTEMPTS',
    type: 'integer 0–1000',
    default: '3',
    option: 'defaults.maxRetries',
    path: 'defaults.maxRetries',
    parse: (raw) => parseEnvInteger(raw, 0, 1000),
  },
  { name: 'RETRY_INITIAL_DELAY', type: 'duration', default: '1s', option: 'defaults.backoff.delay', parse: (raw) => parseEnvDuration(raw) },
  { name: 'RETRY_MAX_DELAY', type: 'duration', default: '1h', option: 'defaults.backoff.max', parse: (raw) => parseEnvDuration(raw) },
  { name: 'RETRY_MULTIPLIER', type: 'number 1–100', default: '2.0', option: 'defaults.backoff.factor', parse: (raw) => parseEnvNumber(raw, 1, 100) },
  { name: 'DLQ_ENABLED', type: 'boolean (true only)', default: 'true', option: '(dead letters are always kept)', parse: parseEnvBoolean },
  {
    name: 'DLQ_RETENTION',
    type: 'duration or false',
    default: '720h (30 days)',
    option: 'deadLetters.maxAge',
    path: 'deadLetters.maxAge',
    parse: (raw) => parseEnvDurationOrFalse(raw),
  },
  {
    name: 'DLQ_QUEUE',
    type: '—',
    default: '—',
    option: 'refused',
    parse: refuse,
    refused:
      'dead letters are not a queue here: a job whose attempts are spent stays in the store in state dead; list and retry them with scheduler.deadLetters (remove this variable)',
  },
  { name: 'DISTRIBUTED', type: 'boolean (must match the store)', default: 'true for a shared store', option: '(implied by store)', parse: parseEnvBoolean },
  { name: 'PEER', type: 'boolean', default: 'true', option: 'peer', path: 'peer', parse: parseEnvBoolean },
  { name: 'INSTANCE_ID', type: 'string', default: 'host-pid-random', option: 'nodeName', path: 'nodeName', parse: nodeName },
  {
    name: 'LOCK_TTL',
    type: 'duration ≥ 100ms',
    default: '30s',
    option: 'peer.leaseTtl',
    path: 'peer.leaseTtl',
    parse: (raw) => parseEnvDuration(raw, { min: 100 }),
  },
  { name: 'LOCK_REFRESH', type: 'duration (= LOCK_TTL / 3)', default: '10s', option: '(leaseTtl / 3)', parse: (raw) => parseEnvDuration(raw) },
  {
    name: 'POSTGRES_URL',
    type: 'postgres:// URL (secret)',
    default: '— (required)',
    option: 'store.url',
    path: 'store.url',
    store: 'postgres',
    parse: (raw) => parseEnvUrl(raw, ['postgres', 'postgresql']),
  },
  { name: 'POSTGRES_SCHEMA', type: 'identifier', default: 'public', option: 'store.schema', path: 'store.schema', store: 'postgres', parse: identifier },
  {
    name: 'POSTGRES_TABLE_PREFIX',
    type: 'identifier',
    default: 'scheduler_',
    option: 'store.tablePrefix',
    path: 'store.tablePrefix',
    store: 'postgres',
    parse: identifier,
  },
  {
    name: 'REDIS_URL',
    type: 'redis:// URL (secret)',
    default: 'redis://127.0.0.1:6379',
    option: 'store.url',
    path: 'store.url',
    store: 'redis',
    parse: (raw) => parseEnvUrl(raw, ['redis', 'rediss']),
  },
  { name: 'REDIS_KEY_PREFIX', type: 'string', default: 'scheduler', option: 'store.keyPrefix', path: 'store.keyPrefix', store: 'redis', parse: redisKeyPrefix },
  {
    name: 'REDIS_DB',
    type: 'integer ≥ 0',
    default: '0',
    option: 'store.db',
    path: 'store.db',
    store: 'redis',
    parse: (raw) => parseEnvInteger(raw, 0, 2_147_483_647),
  },
  { name: 'SQLITE_PATH', type: 'file path', default: '— (required)', option: 'store.path', path: 'store.path', store: 'sqlite', parse: text },
  { name: 'METRICS_ENABLED', type: 'boolean', default: 'true', option: 'metrics.enabled', path: 'metrics.enabled', parse: parseEnvBoolean },
  ...(
    [
      ['TIMEZONE', 'there is no module-wide time zone: give `zone` on each cron schedule (@Scheduled({ cron, zone })); it defaults to Etc/UTC'],
      ['LOG_LEVEL', "the scheduler logs through Nest's Logger: set levels with NestFactory.create(AppModule, { logger: [...] })"],
      ['DASHBOARD_ENABLED', 'this version has no dashboard; remove the variable'],
      ['DASHBOARD_PATH', 'this version has no dashboard; remove the variable'],
      ['DASHBOARD_READ_ONLY', 'this version has no dashboard; remove the variable'],
    ] as const
  ).map(([name, refused]) => ({ name, type: '—', default: '—', option: 'refused', parse: refuse, refused })),
];
