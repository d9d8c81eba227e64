import { describe, expect, it } from 'vitest';
import { schedulerConfigFromEnv, schedulerEnvSchema, withEnv } from '../../../lib/config/index.js';
import { createSchedulerEnvConfig } from '../../../lib/config/env-config.provider.js';
import { sourceOf } from '../../../lib/config/env-sources.js';
import { MissingPackageError } from '../../../lib/index.js';

const quiet = { warn: () => undefined };

describe('withEnv: code > env > defaults', () => {
  it('takes what code sets, then what env sets; groups merge key by key', () => {
    const env = { SCHEDULER_POLL_INTERVAL: '5s', SCHEDULER_WORKERS: '4', SCHEDULER_DEFAULT_TIMEOUT: '1m', SCHEDULER_RETRY_MAX_ATTEMPTS: '7' };
    const options = withEnv({ queues: { emails: 2 }, defaults: { maxRetries: 1 } }, env, quiet);
    expect(JSON.parse(JSON.stringify(options))).toEqual({ pollInterval: 5_000, queues: { emails: 2 }, defaults: { timeout: 60_000, maxRetries: 1 } });
    expect(sourceOf(options, 'pollInterval')).toEqual({ source: 'env', variable: 'SCHEDULER_POLL_INTERVAL' });
    expect(sourceOf(options, 'queues')).toEqual({ source: 'code' });
    expect(sourceOf(options, 'defaults.timeout')).toEqual({ source: 'env', variable: 'SCHEDULER_DEFAULT_TIMEOUT' });
    expect(sourceOf(options, 'defaults.maxRetries')).toEqual({ source: 'code' });
    expect(sourceOf(options, 'misfireThreshold')).toEqual({ source: 'default' });
  });

  it('a store connection in code stands in for the env URL, and replaces an env one', () => {
    const dataSource = { isInitialized: true };
    const options = withEnv({ store: { type: 'postgres', dataSource } }, { SCHEDULER_STORE: 'postgres', SCHEDULER_POSTGRES_SCHEMA: 'jobs' }, quiet);
    expect(options.store).toEqual({ type: 'postgres', dataSource, schema: 'jobs' });
    const both = withEnv({ store: { type: 'postgres', dataSource } }, { SCHEDULER_STORE: 'postgres', SCHEDULER_POSTGRES_URL: 'postgres://h/d' }, quiet);
    expect(both.store).toEqual({ type: 'postgres', dataSource });
    expect(sourceOf(both, 'store.url')).toEqual({ source: 'default' });
  });

  it('a store of another type in code wins whole; peer: false in code drops env lease settings', () => {
    const options = withEnv({ store: 'memory', peer: false }, { SCHEDULER_STORE: 'redis', SCHEDULER_LOCK_TTL: '60s' }, quiet);
    expect(options.store).toBe('memory');
    expect(options.peer).toBe(false);
    expect(sourceOf(options, 'peer.leaseTtl')).toEqual({ source: 'default' });
  });

  it('a spread that overrides an env value makes it code', () => {
    const fromEnv = schedulerConfigFromEnv({ SCHEDULER_POLL_INTERVAL: '5s', SCHEDULER_ENABLED: 'false' }, quiet);
    const options = { ...fromEnv, pollInterval: '2s' };
    expect(sourceOf(options, 'pollInterval')).toEqual({ source: 'code' });
    expect(sourceOf(options, 'enabled')).toEqual({ source: 'env', variable: 'SCHEDULER_ENABLED' });
  });

  it('takes the options already read from the environment (what schedulerEnvConfig injects) as well as an environment', () => {
    const env = {
      SCHEDULER_POLL_INTERVAL: '5s',
      SCHEDULER_QUEUES: 'default:9',
      SCHEDULER_DEFAULT_TIMEOUT: '1m',
      SCHEDULER_STORE: 'redis',
      SCHEDULER_REDIS_DB: '2',
    };
    const code = { queues: { default: 2 }, defaults: { maxRetries: 1 }, store: { type: 'redis' as const, keyPrefix: 'app' } };
    const fromRead = withEnv(code, schedulerConfigFromEnv(env, quiet));
    const fromEnv = withEnv(code, env, quiet);
    expect(JSON.parse(JSON.stringify(fromRead))).toEqual(JSON.parse(JSON.stringify(fromEnv)));
    expect(fromRead).toMatchObject({
      pollInterval: 5_000,
      queues: { default: 2 },
      defaults: { timeout: 60_000, maxRetries: 1 },
      store: { type: 'redis', db: 2, keyPrefix: 'app' },
    });
    for (const path of ['pollInterval', 'queues', 'defaults.timeout', 'defaults.maxRetries', 'store.type', 'store.db', 'store.keyPrefix', 'misfireThreshold']) {
      expect(sourceOf(fromRead, path)).toEqual(sourceOf(fromEnv, path));
    }
    expect(sourceOf(fromRead, 'store.db')).toEqual({ source: 'env', variable: 'SCHEDULER_REDIS_DB' });
    expect(sourceOf(fromRead, 'queues')).toEqual({ source: 'code' });
    // An empty environment read is still a read: nothing from env, everything from code.
    expect(JSON.parse(JSON.stringify(withEnv({ pollInterval: '2s' }, schedulerConfigFromEnv({}, quiet))))).toEqual({ pollInterval: '2s' });
  });

  it('still throws one error for bad variables', () => {
    expect(() => withEnv({}, { SCHEDULER_WORKERS: '0', SCHEDULER_PEER: 'x' }, quiet)).toThrow(/2 bad variables/);
  });
});

describe('schedulerEnvSchema (Standard Schema v1)', () => {
  const standard = schedulerEnvSchema['~standard'];

  it('is version 1 of vendor nestjs-scheduler, and returns the env unchanged when valid', async () => {
    expect(standard.version).toBe(1);
    expect(standard.vendor).toBe('nestjs-scheduler');
    const env = { SCHEDULER_WORKERS: '3', PATH: '/bin' };
    expect(await standard.validate(env)).toEqual({ value: env });
  });

  it('returns one issue per bad variable, its path the variable, secrets redacted', async () => {
    const result = await standard.validate({ SCHEDULER_WORKERS: 'x', SCHEDULER_STORE: 'postgres', SCHEDULER_POSTGRES_URL: 'http://u:pw@h' });
    expect(result.issues?.map((issue) => [issue.path, issue.message])).toEqual([
      [['SCHEDULER_WORKERS'], '"x": must be an integer from 1 to 10000'],
      [['SCHEDULER_POSTGRES_URL'], '"http://u:***@h/": must start with postgres:// or postgresql://'],
    ]);
  });

  it('refuses what is not an object', async () => {
    expect((await standard.validate('SCHEDULER_WORKERS=3')).issues).toEqual([{ message: 'expected an object of environment variables' }]);
  });
});

describe('schedulerEnvConfig without @nestjs/config', () => {
  it('throws MissingPackageError with the install command on use, while schedulerConfigFromEnv works', () => {
    const requirer = (specifier: string): never => {
      throw Object.assign(new Error(`Cannot find module '${specifier}'`), { code: 'MODULE_NOT_FOUND' });
    };
    const config = createSchedulerEnvConfig(requirer);
    expect(() => config.asProvider()).toThrow(MissingPackageError);
    expect(() => config.KEY).toThrow("schedulerEnvConfig needs the '@nestjs/config' package: npm install @nestjs/config");
    expect(() => config()).toThrow(MissingPackageError);
    expect(schedulerConfigFromEnv({ SCHEDULER_WORKERS: '2' }, quiet).queues).toEqual({ default: 2 });
  });

  it('rethrows other failures of the package (installed but broken)', () => {
    expect(() =>
      createSchedulerEnvConfig(() => {
        throw new SyntaxError('Unexpected token');
      }),
    ).toThrow(SyntaxError);
  });

  it('with the package: registerAs("scheduler"), reading process.env when called', () => {
    const config = createSchedulerEnvConfig();
    expect(config.KEY).toBe('CONFIGURATION(scheduler)');
    expect(config.asProvider().inject).toEqual(['CONFIGURATION(scheduler)']);
  });
});
