import { Logger } from '@nestjs/common';
import { validateIdentifier } from '../postgres/identifiers.js';
import { DEFAULT_BACKOFF } from '../discovery/job-defaults.resolver.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { SchedulerModuleOptions } from '../scheduler.options.js';
import type { BackoffPolicy } from '../decorators/job-options.js';
import { SchedulerEnvError, type EnvProblem } from './env.errors.js';
import { attachEnvSources, type EnvSource } from './env-sources.js';
import { ENV_VARIABLES, type EnvVariableSpec } from './env-variables.js';
import { redactValue } from './env-values.js';
import { didYouMean } from './did-you-mean.js';

/**
 * Options of {@link schedulerConfigFromEnv}.
 * @publicApi
 */
export interface SchedulerEnvOptions {
  /** The prefix of every variable. @default 'SCHEDULER_' */
  prefix?: string;
  /** Receives the warning about each unknown `SCHEDULER_*` name. @default Nest's `Logger` (context `SchedulerConfig`) */
  warn?: (message: string) => void;
}

/** The environment as Node gives it (`process.env`) or as a plain record. @publicApi */
export type EnvRecord = Readonly<Record<string, string | undefined>>;

/** Set by `withEnv` when code gives the store's connection, so env need not. @internal */
export interface EnvReadContext {
  connectionFromCode?: boolean;
}

const logger = new Logger('SchedulerConfig');
const warned = new Set<string>();
const defaultWarn = (message: string): void => {
  // ConfigModule's validation and the registerAs factory both read the env: say it once.
  if (warned.has(message)) return;
  warned.add(message);
  logger.warn(message);
};

/**
 * Reads `SCHEDULER_*` variables into module options. Unset (or empty)
 * variables are left out, so the module's defaults (or your code's values,
 * with {@link withEnv}) apply. Every bad variable is collected and thrown at
 * once as a {@link SchedulerEnvError}; unknown `SCHEDULER_*` names are
 * warned about with a "did you mean". Secrets never appear in messages.
 * @param env @default process.env
 * @throws SchedulerEnvError
 * @publicApi
 */
export function schedulerConfigFromEnv(env: EnvRecord = process.env, options: SchedulerEnvOptions = {}): SchedulerModuleOptions {
  return readEnv(env, options, {});
}

/** {@link schedulerConfigFromEnv} with the context of `withEnv`. @internal */
export function readEnv(env: EnvRecord, { prefix = 'SCHEDULER_', warn = defaultWarn }: SchedulerEnvOptions, context: EnvReadContext): SchedulerModuleOptions {
  const problems: EnvProblem[] = [];
  const values = new Map<string, unknown>();
  const raws = new Map<string, string>();
  const fail = (spec: EnvVariableSpec, message: string): void => {
    problems.push({ variable: prefix + spec.name, value: redactValue(prefix + spec.name, raws.get(spec.name) ?? ''), message });
  };
  for (const spec of ENV_VARIABLES) {
    const raw = env[prefix + spec.name]?.trim();
    if (!raw) continue;
    raws.set(spec.name, raw);
    if (spec.refused) {
      fail(spec, spec.refused);
      continue;
    }
    try {
      values.set(spec.name, spec.parse(raw));
    } catch (error) {
      fail(spec, (error as Error).message);
    }
  }
  warnUnknown(env, prefix, warn);

  const byName = (name: string): EnvVariableSpec => ENV_VARIABLES.find((spec) => spec.name === name)!;
  const options: Record<string, unknown> = {};
  const sources: Record<string, EnvSource> = {};
  const set = (path: string, value: unknown, ...names: string[]): void => {
    const keys = path.split('.');
    let target = options;
    for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[keys.at(-1)!] = value;
    sources[path] = { variable: names.map((name) => prefix + name).join(', '), value };
  };

  const type = (values.get('STORE') as string | undefined) ?? (raws.has('STORE') ? undefined : 'memory');
  for (const spec of ENV_VARIABLES) {
    if (!values.has(spec.name) || !spec.path) continue;
    if (spec.store && type !== undefined && type !== spec.store) {
      fail(spec, `applies to SCHEDULER_STORE=${spec.store}, but the store is ${raws.has('STORE') ? raws.get('STORE') : 'memory (SCHEDULER_STORE is unset)'}`);
      continue;
    }
    if (spec.path.startsWith('store.') || spec.name === 'LOCK_TTL') continue;
    set(spec.path, values.get(spec.name), spec.name);
  }
  readStore(type, values, raws, context, { set, fail: (name, message) => fail(byName(name), message) });
  readCombined(type, values, raws, { set, fail: (name, message) => fail(byName(name), message) });

  if (problems.length) throw new SchedulerEnvError(problems);
  return attachEnvSources(options as SchedulerModuleOptions, sources);
}

interface Sink {
  set(path: string, value: unknown, ...names: string[]): void;
  fail(name: string, message: string): void;
}

const STORE_FIELDS: Record<string, [name: string, field: string][]> = {
  postgres: [
    ['POSTGRES_URL', 'url'],
    ['POSTGRES_SCHEMA', 'schema'],
    ['POSTGRES_TABLE_PREFIX', 'tablePrefix'],
  ],
  redis: [
    ['REDIS_URL', 'url'],
    ['REDIS_KEY_PREFIX', 'keyPrefix'],
    ['REDIS_DB', 'db'],
  ],
  sqlite: [['SQLITE_PATH', 'path']],
};

function readStore(type: string | undefined, values: Map<string, unknown>, raws: Map<string, string>, context: EnvReadContext, sink: Sink): void {
  if (!raws.has('STORE') || type === undefined) return;
  if (type === 'memory') return sink.set('store', 'memory', 'STORE');
  sink.set('store.type', type, 'STORE');
  for (const [name, field] of STORE_FIELDS[type]!) {
    if (!values.has(name)) continue;
    if (name === 'POSTGRES_SCHEMA' || name === 'POSTGRES_TABLE_PREFIX') {
      try {
        validateIdentifier(name === 'POSTGRES_SCHEMA' ? 'store.schema' : 'store.tablePrefix', values.get(name));
      } catch (error) {
        if (!(error instanceof SchedulerConfigError)) throw error;
        sink.fail(name, error.message.replace(/^.*?invalid option "[^"]+": /, ''));
        continue;
      }
    }
    sink.set(`store.${field}`, values.get(name), name);
  }
  const required = type === 'postgres' ? 'POSTGRES_URL' : type === 'sqlite' ? 'SQLITE_PATH' : undefined;
  if (required && !raws.has(required) && !context.connectionFromCode) {
    sink.fail('STORE', `SCHEDULER_STORE=${type} needs SCHEDULER_${required} (or a store.${type === 'sqlite' ? 'path or dataSource' : 'url or dataSource'} in code, merged with withEnv)`);
  }
}

function readCombined(type: string | undefined, values: Map<string, unknown>, raws: Map<string, string>, sink: Sink): void {
  if (values.has('WORKERS')) {
    if (raws.has('QUEUES')) sink.fail('WORKERS', 'give SCHEDULER_QUEUES (e.g. default:5,emails:2) or SCHEDULER_WORKERS, not both');
    else sink.set('queues', { default: values.get('WORKERS') }, 'WORKERS');
  }
  const backoffNames = ['RETRY_INITIAL_DELAY', 'RETRY_MAX_DELAY', 'RETRY_MULTIPLIER'].filter((name) => values.has(name));
  if (backoffNames.length) {
    const base = DEFAULT_BACKOFF as BackoffPolicy;
    const backoff: BackoffPolicy = {
      type: 'exponential',
      delay: (values.get('RETRY_INITIAL_DELAY') as number | undefined) ?? base.delay,
      max: (values.get('RETRY_MAX_DELAY') as number | undefined) ?? base.max,
      factor: (values.get('RETRY_MULTIPLIER') as number | undefined) ?? base.factor,
      jitter: true,
    };
    const delayMs = (values.get('RETRY_INITIAL_DELAY') as number | undefined) ?? 1_000;
    const maxMs = (values.get('RETRY_MAX_DELAY') as number | undefined) ?? 3_600_000;
    if (maxMs < delayMs) sink.fail('RETRY_MAX_DELAY', `must not be shorter than the initial delay (${delayMs} ms)`);
    else sink.set('defaults.backoff', backoff, ...backoffNames);
  }
  if (values.get('DLQ_ENABLED') === false) {
    sink.fail('DLQ_ENABLED', 'dead letters cannot be turned off: spent jobs are kept in state dead; bound them with SCHEDULER_DLQ_RETENTION (deadLetters.maxAge) instead');
  }
  const distributed = values.get('DISTRIBUTED');
  if (distributed !== undefined && type !== undefined && distributed !== (type !== 'memory')) {
    sink.fail(
      'DISTRIBUTED',
      distributed
        ? 'a memory store lives in one process: set SCHEDULER_STORE=postgres, redis or sqlite for several nodes (they elect a leader by themselves)'
        : `the ${type} store is shared and its nodes always elect a leader; use SCHEDULER_PEER=false for a node that must never lead`,
    );
  }
  const peer = values.get('PEER');
  const leaseTtl = values.get('LOCK_TTL') as number | undefined;
  if (leaseTtl !== undefined) {
    if (peer === false) sink.fail('LOCK_TTL', 'has no effect with SCHEDULER_PEER=false (this node never holds the lease)');
    else sink.set('peer.leaseTtl', leaseTtl, 'LOCK_TTL');
  }
  const refresh = values.get('LOCK_REFRESH') as number | undefined;
  if (refresh !== undefined && refresh * 3 !== (leaseTtl ?? 30_000)) {
    sink.fail('LOCK_REFRESH', `the lease is renewed every leaseTtl / 3 (${Math.round((leaseTtl ?? 30_000) / 3)} ms here); to renew every ${refresh} ms set SCHEDULER_LOCK_TTL=${refresh * 3}ms`);
  }
}

function warnUnknown(env: EnvRecord, prefix: string, warn: (message: string) => void): void {
  const known = ENV_VARIABLES.map((spec) => prefix + spec.name);
  for (const name of Object.keys(env)) {
    if (!name.startsWith(prefix) || known.includes(name)) continue;
    const suggestion = didYouMean(name, known, prefix.length);
    warn(`unknown variable ${name} (not read)${suggestion ? `: did you mean ${suggestion}?` : ''}`);
  }
}
