import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, SchedulerModule, SchedulerService, type ConfigEntry, type JobContext } from '../../lib/index.js';
import { schedulerEnvConfig, schedulerEnvSchema, SchedulerEnvError, withEnv } from '../../lib/config/index.js';
import { redactUrl } from '../../lib/config/env-values.js';
import { createTestSchema } from '../support/postgres.js';
import { waitFor } from '../support/wait.js';

@Injectable()
class Mailer {
  sent: { queue: string; args: unknown }[] = [];
  @Scheduled({ name: 'send', queue: 'emails' })
  send(ctx: JobContext) {
    this.sent.push({ queue: ctx.queue, args: ctx.args });
  }
}

/** Sets variables for one test; `restore()` puts process.env back as it was. */
function setEnv(values: Record<string, string>): { restore(): void } {
  const before = new Map(Object.keys(values).map((key) => [key, process.env[key]]));
  Object.assign(process.env, values);
  return {
    restore: () => {
      for (const [key, value] of before) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
}

const entry = (entries: readonly ConfigEntry[], option: string) => entries.find((e) => e.option === option);

describe('configuration from the environment (ConfigModule + schedulerEnvConfig)', () => {
  const apps: TestingModule[] = [];
  let env: { restore(): void } | undefined;
  let dir: string;

  const boot = async (variables: Record<string, string>): Promise<TestingModule> => {
    env = setEnv(variables);
    const app = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ load: [schedulerEnvConfig], ignoreEnvFile: true, validationSchema: schedulerEnvSchema }),
        SchedulerModule.forRootAsync(schedulerEnvConfig.asProvider()),
      ],
      providers: [Mailer],
    }).compile();
    apps.push(app);
    await app.init();
    return app;
  };

  /** Enqueues on the `emails` queue (which exists only because the env says so) and waits for the run. */
  const sendOne = async (app: TestingModule): Promise<void> => {
    await app.get(SchedulerService).enqueue('send', { to: 'ada@example.com' });
    await waitFor(() => app.get(Mailer).sent.length === 1, 10_000, 'the job on the emails queue');
    expect(app.get(Mailer).sent).toEqual([{ queue: 'emails', args: { to: 'ada@example.com' } }]);
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-env-e2e-'));
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    env?.restore();
    env = undefined;
    await rm(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('boots on the memory store with env-provided queues, and describeConfig says where each value came from', async () => {
    const app = await boot({ SCHEDULER_QUEUES: 'default:3,emails:2', SCHEDULER_POLL_INTERVAL: '250ms', SCHEDULER_INSTANCE_ID: 'env-node-1' });
    const scheduler = app.get(SchedulerService);
    expect((await scheduler.queueStats()).map((q) => [q.queue, q.concurrency])).toEqual([
      ['default', 3],
      ['emails', 2],
    ]);
    await sendOne(app);
    const config = scheduler.describeConfig();
    expect(entry(config, 'queues')).toEqual({ option: 'queues', value: { default: 3, emails: 2 }, source: 'env', variable: 'SCHEDULER_QUEUES' });
    expect(entry(config, 'pollInterval')).toEqual({ option: 'pollInterval', value: 250, source: 'env', variable: 'SCHEDULER_POLL_INTERVAL' });
    expect(entry(config, 'nodeName')).toMatchObject({ value: 'env-node-1', source: 'env' });
    expect(entry(config, 'store.type')).toEqual({ option: 'store.type', value: 'memory', source: 'default' });
    expect(entry(config, 'misfireThreshold')).toEqual({ option: 'misfireThreshold', value: 60_000, source: 'default' });
  });

  it('boots on an SQLite file named by SCHEDULER_SQLITE_PATH', async () => {
    const path = join(dir, 'env.db');
    const app = await boot({ SCHEDULER_STORE: 'sqlite', SCHEDULER_SQLITE_PATH: path, SCHEDULER_QUEUES: 'emails:1', SCHEDULER_POLL_INTERVAL: '100ms' });
    await sendOne(app);
    expect(existsSync(path)).toBe(true);
    const config = app.get(SchedulerService).describeConfig();
    expect(entry(config, 'store.type')).toEqual({ option: 'store.type', value: 'sqlite', source: 'env', variable: 'SCHEDULER_STORE' });
    expect(entry(config, 'store.path')).toEqual({ option: 'store.path', value: path, source: 'env', variable: 'SCHEDULER_SQLITE_PATH' });
  });

  it('boots on PostgreSQL from SCHEDULER_POSTGRES_URL and _SCHEMA, the URL redacted in describeConfig', async () => {
    const db = await createTestSchema('envcfg');
    try {
      const app = await boot({
        SCHEDULER_STORE: 'postgres',
        SCHEDULER_POSTGRES_URL: db.url,
        SCHEDULER_POSTGRES_SCHEMA: db.schema,
        SCHEDULER_QUEUES: 'emails:2',
        SCHEDULER_POLL_INTERVAL: '200ms',
      });
      await sendOne(app);
      const config = app.get(SchedulerService).describeConfig();
      expect(entry(config, 'store.url')).toEqual({ option: 'store.url', value: redactUrl(db.url), source: 'env', variable: 'SCHEDULER_POSTGRES_URL' });
      expect(entry(config, 'store.schema')).toMatchObject({ value: db.schema, source: 'env' });
      // The password as it sits in the URL: a bare 'postgres' (the embedded server's) is also the user and the store type.
      const password = new URL(db.url).password;
      if (password) expect(JSON.stringify(config)).not.toContain(`:${password}@`);
      await app.close();
      apps.splice(0);
    } finally {
      await db.drop();
    }
  });

  it('stops at ConfigModule.forRoot with every bad variable when the schema validates', async () => {
    env = setEnv({ SCHEDULER_WORKERS: 'lots', SCHEDULER_LOCK_TTL: '1 minute' });
    await expect(ConfigModule.forRoot({ ignoreEnvFile: true, validationSchema: schedulerEnvSchema })).rejects.toThrow(
      'Config validation error: SCHEDULER_WORKERS: "lots": must be an integer from 1 to 10000\nSCHEDULER_LOCK_TTL: "1 minute": must be a Go duration',
    );
  });

  it('without the schema, bootstrap stops with one SchedulerEnvError from the registerAs factory', async () => {
    env = setEnv({ SCHEDULER_WORKERS: 'lots', SCHEDULER_ENABLED: 'perhaps' });
    const compiling = Test.createTestingModule({
      imports: [ConfigModule.forRoot({ load: [schedulerEnvConfig], ignoreEnvFile: true }), SchedulerModule.forRootAsync(schedulerEnvConfig.asProvider())],
    }).compile();
    const error = await compiling.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SchedulerEnvError);
    expect((error as SchedulerEnvError).problems.map((p) => p.variable)).toEqual(['SCHEDULER_ENABLED', 'SCHEDULER_WORKERS']);
  });

  it('withEnv in forRoot: code wins over env, env over defaults, as describeConfig shows', async () => {
    env = setEnv({ SCHEDULER_QUEUES: 'default:9', SCHEDULER_POLL_INTERVAL: '300ms', SCHEDULER_RETRY_MAX_ATTEMPTS: '6' });
    const app = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot(withEnv({ queues: { default: 1, emails: 1 }, defaults: { timeout: '30s' } }))],
      providers: [Mailer],
    }).compile();
    apps.push(app);
    await app.init();
    await sendOne(app);
    const config = app.get(SchedulerService).describeConfig();
    expect(entry(config, 'queues')).toEqual({ option: 'queues', value: { default: 1, emails: 1 }, source: 'code' });
    expect(entry(config, 'pollInterval')).toMatchObject({ value: 300, source: 'env' });
    expect(entry(config, 'defaults.timeout')).toEqual({ option: 'defaults.timeout', value: 30_000, source: 'code' });
    expect(entry(config, 'defaults.maxRetries')).toEqual({ option: 'defaults.maxRetries', value: 6, source: 'env', variable: 'SCHEDULER_RETRY_MAX_ATTEMPTS' });
    expect(entry(config, 'shutdownGracePeriod')).toEqual({ option: 'shutdownGracePeriod', value: 15_000, source: 'default' });
  });
});
