import { Logger, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { ConfigEntry } from 'nestjs-scheduler';
import { SchedulerEnvError } from 'nestjs-scheduler/config';
import pg from 'pg';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppModule } from '../src/app.module.js';

/**
 * Sets variables for one test and puts process.env back after. The variables are read when the
 * app starts (the registerAs factory), so each test boots with its own. A .env copied from
 * .env.example changes nothing: the tests set every SCHEDULER_* variable it has.
 */
function setEnv(values: Record<string, string>): () => void {
  const before = Object.keys(values).map((key) => [key, process.env[key]] as const);
  Object.assign(process.env, values);
  return () => {
    for (const [key, value] of before) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

const boot = async (): Promise<INestApplication> => {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication();
  await app.init();
  return app;
};

const byOption = (entries: ConfigEntry[]) => new Map(entries.map((entry) => [entry.option, entry]));

describe('configuration from the environment (e2e)', () => {
  let app: INestApplication | undefined;
  let restoreEnv: (() => void) | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    restoreEnv?.();
    restoreEnv = undefined;
    vi.restoreAllMocks();
  });

  it('takes the options from SCHEDULER_* variables, lets the code win, and says where each came from', async () => {
    restoreEnv = setEnv({
      SCHEDULER_POLL_INTERVAL: '250ms',
      SCHEDULER_INSTANCE_ID: 'env-node-7',
      SCHEDULER_SHUTDOWN_GRACE_PERIOD: '20s',
      SCHEDULER_RETRY_MAX_ATTEMPTS: '6',
      SCHEDULER_DEFAULT_TIMEOUT: '2m', // the code says 30s: the code wins
      SCHEDULER_QUEUES: 'default:9', // the code says its queues: the code wins
    });
    app = await boot();

    const { body } = await request(app.getHttpServer()).get('/config').expect(200);
    const config = byOption(body as ConfigEntry[]);
    expect(config.get('pollInterval')).toEqual({ option: 'pollInterval', value: 250, source: 'env', variable: 'SCHEDULER_POLL_INTERVAL' });
    expect(config.get('nodeName')).toEqual({ option: 'nodeName', value: 'env-node-7', source: 'env', variable: 'SCHEDULER_INSTANCE_ID' });
    expect(config.get('defaults.maxRetries')).toEqual({ option: 'defaults.maxRetries', value: 6, source: 'env', variable: 'SCHEDULER_RETRY_MAX_ATTEMPTS' });
    expect(config.get('defaults.timeout')).toEqual({ option: 'defaults.timeout', value: 30_000, source: 'code' });
    expect(config.get('queues')).toEqual({ option: 'queues', value: { default: 5, reports: 1 }, source: 'code' });
    expect(config.get('store.type')).toEqual({ option: 'store.type', value: 'memory', source: 'default' });
    expect(config.get('misfireThreshold')).toEqual({ option: 'misfireThreshold', value: 60_000, source: 'default' });

    // ?source=env: the variables that took effect, in the fixed order of the options; the two the code overrode are not there.
    const env = await request(app.getHttpServer()).get('/config?source=env').expect(200);
    expect((env.body as ConfigEntry[]).map((entry) => [entry.option, entry.variable])).toEqual([
      ['nodeName', 'SCHEDULER_INSTANCE_ID'],
      ['pollInterval', 'SCHEDULER_POLL_INTERVAL'],
      ['shutdownGracePeriod', 'SCHEDULER_SHUTDOWN_GRACE_PERIOD'],
      ['defaults.maxRetries', 'SCHEDULER_RETRY_MAX_ATTEMPTS'],
    ]);
  });

  it('runs on PostgreSQL when the environment says so, the URL password shown as ***', async () => {
    const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
    if (!url.password) url.password = 'example-secret'; // a trust-auth server ignores it; /config must hide it either way
    const schema = `example07_${process.pid}_${Date.now()}`;
    restoreEnv = setEnv({ SCHEDULER_STORE: 'postgres', SCHEDULER_POSTGRES_URL: url.href, SCHEDULER_POSTGRES_SCHEMA: schema });
    try {
      app = await boot();
      const { body } = await request(app.getHttpServer()).get('/config').expect(200);
      const config = byOption(body as ConfigEntry[]);
      const redacted = new URL(url.href);
      redacted.password = '***';
      expect(config.get('store.type')).toEqual({ option: 'store.type', value: 'postgres', source: 'env', variable: 'SCHEDULER_STORE' });
      expect(config.get('store.url')).toEqual({
        option: 'store.url',
        value: redacted.href.replace('%2A%2A%2A', '***'),
        source: 'env',
        variable: 'SCHEDULER_POSTGRES_URL',
      });
      expect(config.get('store.schema')).toEqual({ option: 'store.schema', value: schema, source: 'env', variable: 'SCHEDULER_POSTGRES_SCHEMA' });
      expect(JSON.stringify(body)).not.toContain(`:${url.password}@`);
      await app.close();
      app = undefined;
    } finally {
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  });

  it('stops the bootstrap with one error listing every bad variable, and warns about a misspelt name', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    restoreEnv = setEnv({ SCHEDULER_WORKERS: 'lots', SCHEDULER_ENABLED: 'perhaps', SCHEDULER_POLL_INTERVALL: '2s' });

    const error = await boot().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SchedulerEnvError);
    expect((error as SchedulerEnvError).problems).toEqual([
      { variable: 'SCHEDULER_ENABLED', value: 'perhaps', message: 'must be true, false, 1, 0, yes or no' },
      { variable: 'SCHEDULER_WORKERS', value: 'lots', message: 'must be an integer from 1 to 10000' },
    ]);
    expect((error as Error).message).toContain(
      '2 bad variables:\n  SCHEDULER_ENABLED="perhaps": must be true, false, 1, 0, yes or no\n  SCHEDULER_WORKERS="lots": must be an integer from 1 to 10000',
    );
    // The misspelt name is not an error (unknown names are not read) but is named, with the closest known one.
    expect(warn.mock.calls.map(([message]) => message)).toContain(
      'unknown variable SCHEDULER_POLL_INTERVALL (not read): did you mean SCHEDULER_POLL_INTERVAL?',
    );
  });
});
