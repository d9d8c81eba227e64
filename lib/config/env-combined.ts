import { validateIdentifier } from '../postgres/identifiers.js';
import { DEFAULT_BACKOFF } from '../discovery/job-defaults.resolver.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { BackoffPolicy } from '../decorators/job-options.js';

/**
 * The variables that set an option together, or only in agreement with
 * others: the store and its connection, queues from WORKERS, the backoff
 * from RETRY_*, and the seed's DLQ / DISTRIBUTED / LOCK_* settings checked
 * against what this scheduler does.
 */

/** Set by `withEnv` when code gives the store's connection, so env need not. @internal */
export interface EnvReadContext {
  connectionFromCode?: boolean;
}

/** Where env-config.ts collects options and problems. @internal */
export interface Sink {
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

/** The store and its connection variables (SCHEDULER_STORE, SCHEDULER_POSTGRES_*, _REDIS_*, _SQLITE_PATH). @internal */
export function readStore(type: string | undefined, values: Map<string, unknown>, raws: Map<string, string>, context: EnvReadContext, sink: Sink): void {
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
    sink.fail(
      'STORE',
      `SCHEDULER_STORE=${type} needs SCHEDULER_${required} (or a store.${type === 'sqlite' ? 'path or dataSource' : 'url or dataSource'} in code, merged with withEnv)`,
    );
  }
}

/** WORKERS, the RETRY_* backoff, and the seed's DLQ / DISTRIBUTED / LOCK_* variables checked against this scheduler. @internal */
export function readCombined(type: string | undefined, values: Map<string, unknown>, raws: Map<string, string>, sink: Sink): void {
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
    sink.fail(
      'DLQ_ENABLED',
      'dead letters cannot be turned off: spent jobs are kept in state dead; bound them with SCHEDULER_DLQ_RETENTION (deadLetters.maxAge) instead',
    );
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
    sink.fail(
      'LOCK_REFRESH',
      `the lease is renewed every leaseTtl / 3 (${Math.round((leaseTtl ?? 30_000) / 3)} ms here); to renew every ${refresh} ms set SCHEDULER_LOCK_TTL=${refresh * 3}ms`,
    );
  }
}
