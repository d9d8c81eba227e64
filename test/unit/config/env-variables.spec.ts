import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schedulerConfigFromEnv, SchedulerEnvError, type EnvProblem } from '../../../lib/config/index.js';
import { envSourcesOf } from '../../../lib/config/env-sources.js';
import { ENV_VARIABLES } from '../../../lib/config/env-variables.js';
import type { SchedulerModuleOptions } from '../../../lib/index.js';

const quiet = { warn: () => undefined };
/** The options as plain JSON (the recorded sources, under a symbol, are checked on their own below). */
const read = (env: Record<string, string>): SchedulerModuleOptions => JSON.parse(JSON.stringify(schedulerConfigFromEnv(env, quiet))) as SchedulerModuleOptions;

/** The problems of an env that must be refused (fails the test when it is accepted). */
function problems(env: Record<string, string>): EnvProblem[] {
  try {
    read(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SchedulerEnvError);
    return [...(error as SchedulerEnvError).problems];
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}
const refused = (env: Record<string, string>) => problems(env).map((problem) => problem.variable);

describe('schedulerConfigFromEnv: each variable', () => {
  it('reads nothing from an environment without SCHEDULER_* variables (defaults apply)', () => {
    expect(read({ PATH: '/bin', DATABASE_URL: 'postgres://x' })).toEqual({});
  });

  it('SCHEDULER_STORE: memory, postgres, sqlite, redis (any case); anything else refused', () => {
    expect(read({ SCHEDULER_STORE: 'memory' })).toEqual({ store: 'memory' });
    expect(read({ SCHEDULER_STORE: 'Redis' })).toEqual({ store: { type: 'redis' } });
    expect(read({ SCHEDULER_STORE: 'postgres', SCHEDULER_POSTGRES_URL: 'postgres://u@h/db' })).toEqual({
      store: { type: 'postgres', url: 'postgres://u@h/db' },
    });
    expect(read({ SCHEDULER_STORE: 'sqlite', SCHEDULER_SQLITE_PATH: '/tmp/s.db' })).toEqual({ store: { type: 'sqlite', path: '/tmp/s.db' } });
    expect(problems({ SCHEDULER_STORE: 'mongo' })).toEqual([
      { variable: 'SCHEDULER_STORE', value: 'mongo', message: 'must be one of memory, postgres, sqlite, redis' },
    ]);
  });

  it('SCHEDULER_STORE=postgres / sqlite without their URL / path is refused', () => {
    expect(problems({ SCHEDULER_STORE: 'postgres' })[0]!.message).toMatch(/needs SCHEDULER_POSTGRES_URL/);
    expect(problems({ SCHEDULER_STORE: 'sqlite' })[0]!.message).toMatch(/needs SCHEDULER_SQLITE_PATH/);
  });

  it('store variables of another store are refused, not ignored', () => {
    expect(problems({ SCHEDULER_POSTGRES_SCHEMA: 'jobs' })[0]!.message).toMatch(/applies to SCHEDULER_STORE=postgres, but the store is memory/);
    expect(refused({ SCHEDULER_STORE: 'redis', SCHEDULER_SQLITE_PATH: 'x.db', SCHEDULER_POSTGRES_URL: 'postgres://h/d' })).toEqual([
      'SCHEDULER_POSTGRES_URL',
      'SCHEDULER_SQLITE_PATH',
    ]);
  });

  it('SCHEDULER_POSTGRES_SCHEMA and _TABLE_PREFIX go through the identifier check', () => {
    const env = { SCHEDULER_STORE: 'postgres', SCHEDULER_POSTGRES_URL: 'postgres://h/d' };
    expect(read({ ...env, SCHEDULER_POSTGRES_SCHEMA: 'jobs', SCHEDULER_POSTGRES_TABLE_PREFIX: 'app_' }).store).toEqual({
      type: 'postgres',
      url: 'postgres://h/d',
      schema: 'jobs',
      tablePrefix: 'app_',
    });
    const bad = problems({ ...env, SCHEDULER_POSTGRES_SCHEMA: 'a;drop', SCHEDULER_POSTGRES_TABLE_PREFIX: '1x' });
    expect(bad.map((p) => p.variable)).toEqual(['SCHEDULER_POSTGRES_SCHEMA', 'SCHEDULER_POSTGRES_TABLE_PREFIX']);
    expect(bad[0]!.message).toMatch(/letters, digits and "_"/);
  });

  it('SCHEDULER_POSTGRES_URL / SCHEDULER_REDIS_URL must be URLs of their scheme', () => {
    expect(problems({ SCHEDULER_STORE: 'postgres', SCHEDULER_POSTGRES_URL: 'redis://h' })[0]!.message).toMatch(/postgres:\/\/ or postgresql:\/\//);
    expect(problems({ SCHEDULER_STORE: 'redis', SCHEDULER_REDIS_URL: 'not a url' })[0]!.message).toMatch(/must be a URL/);
  });

  it('SCHEDULER_REDIS_URL, _KEY_PREFIX (the seed trailing ":" dropped) and _DB', () => {
    expect(
      read({ SCHEDULER_STORE: 'redis', SCHEDULER_REDIS_URL: 'rediss://h:6380', SCHEDULER_REDIS_KEY_PREFIX: 'scheduler:', SCHEDULER_REDIS_DB: '2' }).store,
    ).toEqual({
      type: 'redis',
      url: 'rediss://h:6380',
      keyPrefix: 'scheduler',
      db: 2,
    });
    expect(refused({ SCHEDULER_STORE: 'redis', SCHEDULER_REDIS_KEY_PREFIX: '{x}', SCHEDULER_REDIS_DB: '-1' })).toEqual([
      'SCHEDULER_REDIS_KEY_PREFIX',
      'SCHEDULER_REDIS_DB',
    ]);
  });

  it('SCHEDULER_QUEUES: name:concurrency pairs, or false', () => {
    expect(read({ SCHEDULER_QUEUES: 'default:10, emails : 5' }).queues).toEqual({ default: 10, emails: 5 });
    expect(read({ SCHEDULER_QUEUES: 'false' }).queues).toBe(false);
    expect(problems({ SCHEDULER_QUEUES: 'default' })[0]!.message).toMatch(/name:concurrency pairs/);
    expect(problems({ SCHEDULER_QUEUES: 'a:1,a:2' })[0]!.message).toMatch(/names the queue "a" twice/);
    expect(problems({ SCHEDULER_QUEUES: 'a:0' })[0]!.message).toMatch(/queue "a": concurrency must be an integer from 1 to 10000/);
    expect(problems({ SCHEDULER_QUEUES: 'a:1:2' })[0]!.message).toMatch(/"a:1:2" is not one/);
  });

  it('SCHEDULER_WORKERS sets the default queue; together with SCHEDULER_QUEUES it is refused', () => {
    expect(read({ SCHEDULER_WORKERS: '5' }).queues).toEqual({ default: 5 });
    expect(refused({ SCHEDULER_WORKERS: 'five' })).toEqual(['SCHEDULER_WORKERS']);
    expect(problems({ SCHEDULER_WORKERS: '5', SCHEDULER_QUEUES: 'a:1' })[0]!.message).toMatch(/not both/);
  });

  it('durations: Go style or integer milliseconds', () => {
    const options = read({
      SCHEDULER_POLL_INTERVAL: '250ms',
      SCHEDULER_SHUTDOWN_GRACE_PERIOD: '1m30s',
      SCHEDULER_MISFIRE_THRESHOLD: '90000',
      SCHEDULER_DEFAULT_TIMEOUT: '1.5h',
      SCHEDULER_DLQ_RETENTION: '168h',
    });
    expect(options).toEqual({
      pollInterval: 250,
      shutdownGracePeriod: 90_000,
      misfireThreshold: 90_000,
      defaults: { timeout: 5_400_000 },
      deadLetters: { maxAge: 604_800_000 },
    });
    expect(read({ SCHEDULER_DEFAULT_TIMEOUT: 'false', SCHEDULER_DLQ_RETENTION: 'no' })).toEqual({
      defaults: { timeout: false },
      deadLetters: { maxAge: false },
    });
    expect(read({ SCHEDULER_POLL_INTERVAL: '2000us', SCHEDULER_MISFIRE_THRESHOLD: '2h45m10s' })).toEqual({ pollInterval: 2, misfireThreshold: 9_910_000 });
  });

  it('bad durations are refused with what is accepted', () => {
    const bad = problems({
      SCHEDULER_POLL_INTERVAL: '0',
      SCHEDULER_SHUTDOWN_GRACE_PERIOD: '7d',
      SCHEDULER_MISFIRE_THRESHOLD: '5 minutes',
      SCHEDULER_DEFAULT_TIMEOUT: '-1s',
      SCHEDULER_DLQ_RETENTION: '1.5ms',
    });
    expect(bad.map((p) => [p.variable, p.message])).toEqual([
      ['SCHEDULER_POLL_INTERVAL', 'must be at least 1 ms'],
      ['SCHEDULER_SHUTDOWN_GRACE_PERIOD', 'Go durations have no days or weeks: write hours, e.g. 168h for 7 days'],
      ['SCHEDULER_MISFIRE_THRESHOLD', 'must be a Go duration (e.g. 500ms, 30s, 1h30m, 168h) or an integer of milliseconds'],
      ['SCHEDULER_DEFAULT_TIMEOUT', 'must be a Go duration (e.g. 500ms, 30s, 1h30m, 168h) or an integer of milliseconds'],
      ['SCHEDULER_DLQ_RETENTION', 'must be a whole number of milliseconds, got 1.5 ms'],
    ]);
  });

  it('booleans: true/false/1/0/yes/no, any case', () => {
    for (const [raw, value] of [
      ['true', true],
      ['YES', true],
      ['1', true],
      ['false', false],
      ['No', false],
      ['0', false],
    ] as const) {
      expect(read({ SCHEDULER_ENABLED: raw }).enabled).toBe(value);
    }
    expect(read({ SCHEDULER_METRICS_ENABLED: 'no' }).metrics).toEqual({ enabled: false });
    expect(problems({ SCHEDULER_ENABLED: 'on' })[0]).toEqual({ variable: 'SCHEDULER_ENABLED', value: 'on', message: 'must be true, false, 1, 0, yes or no' });
  });

  it('SCHEDULER_PEER and SCHEDULER_LOCK_TTL; a TTL with PEER=false is refused', () => {
    expect(read({ SCHEDULER_PEER: 'false' }).peer).toBe(false);
    expect(read({ SCHEDULER_LOCK_TTL: '45s' }).peer).toEqual({ leaseTtl: 45_000 });
    expect(problems({ SCHEDULER_PEER: 'no', SCHEDULER_LOCK_TTL: '45s' })[0]!.variable).toBe('SCHEDULER_LOCK_TTL');
    expect(problems({ SCHEDULER_LOCK_TTL: '50ms' })[0]!.message).toBe('must be at least 100 ms');
  });

  it('SCHEDULER_LOCK_REFRESH is accepted only as LOCK_TTL / 3 (how the lease is renewed), else says which TTL to set', () => {
    expect(read({ SCHEDULER_LOCK_REFRESH: '10s' })).toEqual({});
    expect(read({ SCHEDULER_LOCK_TTL: '60s', SCHEDULER_LOCK_REFRESH: '20s' }).peer).toEqual({ leaseTtl: 60_000 });
    expect(problems({ SCHEDULER_LOCK_REFRESH: '5s' })[0]!.message).toMatch(/renewed every leaseTtl \/ 3 \(10000 ms here\).*SCHEDULER_LOCK_TTL=15000ms/);
  });

  it('SCHEDULER_DISTRIBUTED must agree with the store', () => {
    expect(read({ SCHEDULER_DISTRIBUTED: 'false' })).toEqual({});
    expect(read({ SCHEDULER_STORE: 'redis', SCHEDULER_DISTRIBUTED: 'true' })).toEqual({ store: { type: 'redis' } });
    expect(problems({ SCHEDULER_DISTRIBUTED: 'true' })[0]!.message).toMatch(/memory store lives in one process/);
    expect(problems({ SCHEDULER_STORE: 'redis', SCHEDULER_DISTRIBUTED: 'false' })[0]!.message).toMatch(/SCHEDULER_PEER=false/);
  });

  it('SCHEDULER_INSTANCE_ID sets nodeName', () => {
    expect(read({ SCHEDULER_INSTANCE_ID: 'web-1' }).nodeName).toBe('web-1');
    expect(refused({ SCHEDULER_INSTANCE_ID: 'x'.repeat(201) })).toEqual(['SCHEDULER_INSTANCE_ID']);
  });

  it('SCHEDULER_RETRY_*: maxRetries and an exponential backoff built on the defaults', () => {
    expect(read({ SCHEDULER_RETRY_MAX_ATTEMPTS: '5' }).defaults).toEqual({ maxRetries: 5 });
    expect(read({ SCHEDULER_RETRY_INITIAL_DELAY: '2s', SCHEDULER_RETRY_MULTIPLIER: '1.5' }).defaults).toEqual({
      backoff: { type: 'exponential', delay: 2_000, max: '1h', factor: 1.5, jitter: true },
    });
    expect(read({ SCHEDULER_RETRY_MAX_DELAY: '10m' }).defaults?.backoff).toEqual({ type: 'exponential', delay: '1s', max: 600_000, factor: 2, jitter: true });
    expect(refused({ SCHEDULER_RETRY_MAX_ATTEMPTS: '1.5', SCHEDULER_RETRY_MULTIPLIER: 'x' })).toEqual([
      'SCHEDULER_RETRY_MAX_ATTEMPTS',
      'SCHEDULER_RETRY_MULTIPLIER',
    ]);
    expect(problems({ SCHEDULER_RETRY_INITIAL_DELAY: '2m', SCHEDULER_RETRY_MAX_DELAY: '1m' })[0]!.message).toMatch(/not be shorter than the initial delay/);
  });

  it('SCHEDULER_DLQ_ENABLED=true is what happens; false is refused with what to use', () => {
    expect(read({ SCHEDULER_DLQ_ENABLED: 'true' })).toEqual({});
    expect(problems({ SCHEDULER_DLQ_ENABLED: 'false' })[0]!.message).toMatch(/cannot be turned off.*SCHEDULER_DLQ_RETENTION/);
  });

  it('variables with no counterpart are refused with what to use instead, never ignored', () => {
    const bad = problems({
      SCHEDULER_DLQ_QUEUE: 'dead',
      SCHEDULER_TIMEZONE: 'Europe/Paris',
      SCHEDULER_LOG_LEVEL: 'debug',
      SCHEDULER_DASHBOARD_ENABLED: 'true',
      SCHEDULER_DASHBOARD_PATH: '/x',
      SCHEDULER_DASHBOARD_READ_ONLY: 'true',
    });
    expect(bad.map((p) => p.variable)).toEqual([
      'SCHEDULER_DLQ_QUEUE',
      'SCHEDULER_TIMEZONE',
      'SCHEDULER_LOG_LEVEL',
      'SCHEDULER_DASHBOARD_ENABLED',
      'SCHEDULER_DASHBOARD_PATH',
      'SCHEDULER_DASHBOARD_READ_ONLY',
    ]);
    expect(bad[0]!.message).toMatch(/scheduler\.deadLetters/);
    expect(bad[1]!.message).toMatch(/`zone` on each cron schedule/);
  });

  it('empty values count as unset; a custom prefix is honoured', () => {
    expect(read({ SCHEDULER_WORKERS: '  ', SCHEDULER_STORE: '' })).toEqual({});
    expect(schedulerConfigFromEnv({ JOBS_WORKERS: '3', SCHEDULER_WORKERS: '9' }, { prefix: 'JOBS_', warn: () => undefined }).queues).toEqual({ default: 3 });
  });

  it('records the variable behind each option', () => {
    const options = schedulerConfigFromEnv(
      { SCHEDULER_WORKERS: '4', SCHEDULER_STORE: 'redis', SCHEDULER_RETRY_INITIAL_DELAY: '2s', SCHEDULER_RETRY_MULTIPLIER: '3' },
      quiet,
    );
    expect(
      Object.fromEntries(
        envSourcesOf(options)
          .entries()
          .map(([path, source]) => [path, source.variable]),
      ),
    ).toEqual({
      'store.type': 'SCHEDULER_STORE',
      queues: 'SCHEDULER_WORKERS',
      'defaults.backoff': 'SCHEDULER_RETRY_INITIAL_DELAY, SCHEDULER_RETRY_MULTIPLIER',
    });
  });
});

describe('the variable table in docs/configuration.md', () => {
  it('has a row for every variable read or refused', () => {
    const docs = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
    const rows = docs.split('\n').filter((line) => line.startsWith('| `SCHEDULER_'));
    const documented = new Set(rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`(SCHEDULER_[A-Z_]+)`/g)].map((match) => match[1])));
    expect(ENV_VARIABLES.map((spec) => `SCHEDULER_${spec.name}`).filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented].filter((name) => !ENV_VARIABLES.some((spec) => `SCHEDULER_${spec.name}` === name))).toEqual([]);
  });
});
