import { Injectable, Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, SchedulerModule, SchedulerService, type JobContext, type SchedulerModuleOptions } from '../../lib/index.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { startRedisServer } from '../support/redis-server.js';

@Injectable()
class Jobs {
  runs: { name: string; args: unknown; scheduledAt: number }[] = [];
  aborted: string[] = [];
  @Scheduled({ name: 'record' })
  record(ctx: JobContext) {
    this.runs.push({ name: ctx.schedule ?? ctx.name, args: ctx.args, scheduledAt: ctx.scheduledAt.getTime() });
    return { ok: true };
  }
  @Scheduled({ every: '1s', name: 'tick' })
  tick(ctx: JobContext) {
    this.runs.push({ name: 'tick', args: null, scheduledAt: ctx.scheduledAt.getTime() });
  }
  @Scheduled({ name: 'hold' })
  hold(ctx: JobContext) {
    return new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => {
        this.aborted.push(String(ctx.abortReason));
        resolve();
      }),
    );
  }
}

describe('SchedulerModule on Redis', () => {
  const apps: TestingModule[] = [];
  let keys: ReturnType<typeof testKeyPrefix>;
  /** Boots an app on the test prefix as a user would (real clock: pub/sub and leases run in real time). */
  const start = async (options: Partial<SchedulerModuleOptions> = {}): Promise<TestingModule> => {
    const app = await Test.createTestingModule({
      imports: [
        SchedulerModule.forRoot({
          store: { type: 'redis', url: redisUrl(), keyPrefix: keys.keyPrefix },
          pollInterval: '5s',
          peer: { leaseTtl: '3s' },
          ...options,
        }),
      ],
      providers: [Jobs],
    }).compile();
    await app.init();
    apps.push(app);
    return app;
  };
  const stop = async (app: TestingModule): Promise<void> => {
    apps.splice(apps.indexOf(app), 1);
    await app.close();
  };

  beforeEach(() => {
    keys = testKeyPrefix('e2e');
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await keys.drop();
    vi.restoreAllMocks();
  });

  it('runs a job enqueued on another node, woken by pub/sub long before the poll, and keeps its result', async () => {
    const worker = await start({ pollInterval: '1h' });
    const web = await start({ queues: false, peer: false });
    const job = await web.get(SchedulerService).enqueue('record', { n: 1 });
    await waitFor(() => worker.get(Jobs).runs.some((r) => (r.args as { n?: number } | null)?.n === 1), 5_000, 'the job on the worker');
    const history = () => web.get(SchedulerService).history('record');
    await waitFor(async () => (await history())[0]?.state === 'completed', 5_000, 'the job to complete');
    expect((await history())[0]).toMatchObject({ id: job.id, state: 'completed', result: { ok: true }, attempt: 1 });
  });

  it('plans every tick of a schedule once across two nodes, on the leader only', async () => {
    const a = await start();
    const b = await start();
    await waitFor(() => a.get(SchedulerService).isLeader() || b.get(SchedulerService).isLeader(), 10_000, 'a leader');
    expect([a, b].filter((app) => app.get(SchedulerService).isLeader())).toHaveLength(1);
    const ticks = () => [...a.get(Jobs).runs, ...b.get(Jobs).runs].filter((r) => r.name === 'tick');
    await waitFor(() => ticks().length >= 3, 10_000, 'three ticks');
    const times = ticks().map((r) => r.scheduledAt);
    expect(new Set(times).size).toBe(times.length);
    for (const t of times) expect(t % 1000).toBe(0);
  });

  it('changes made on one node hold on every node: runtime schedules, queue pause, cancel', async () => {
    const worker = await start({ pollInterval: '1h' });
    const web = await start({ queues: false, peer: false });
    const webApi = web.get(SchedulerService);
    await waitFor(() => worker.get(SchedulerService).isLeader(), 10_000, 'the worker to lead');
    expect(await webApi.leaderNode()).toBe((await worker.get(SchedulerService).healthCheck()).node);

    await webApi.insert({ name: 'every-second', handler: 'record', every: '1s', args: { from: 'web' } });
    await waitFor(() => worker.get(Jobs).runs.some((r) => r.name === 'every-second'), 10_000, 'a tick of the runtime schedule');
    await webApi.delete('every-second');

    await webApi.pauseQueue('default');
    await waitFor(async () => (await worker.get(SchedulerService).queueStats('default')).paused, 5_000, 'the pause to reach the worker');
    const before = worker.get(Jobs).runs.filter((r) => r.name === 'record').length;
    await webApi.enqueue('record', { paused: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(worker.get(Jobs).runs.filter((r) => r.name === 'record').length).toBe(before);
    await webApi.resumeQueue('default');
    await waitFor(() => worker.get(Jobs).runs.some((r) => (r.args as { paused?: boolean } | null)?.paused), 5_000, 'the job after resume');

    const job = await webApi.enqueue('hold');
    await waitFor(async () => (await webApi.runningJobs()).some((j) => j.id === job.id), 5_000, 'the job to run');
    expect(await webApi.cancelJob(job.id, { reason: 'operator' })).toBe(1);
    await waitFor(() => worker.get(Jobs).aborted.includes('cancel'), 5_000, 'the abort on the worker');
    expect((await webApi.history('hold'))[0]).toMatchObject({ id: job.id, state: 'cancelled' });
  });

  it('a clean shutdown hands leadership over within a second', async () => {
    const a = await start({ peer: { leaseTtl: '30s' } });
    await waitFor(() => a.get(SchedulerService).isLeader(), 10_000, 'a leader');
    const b = await start({ peer: { leaseTtl: '30s' } });
    expect(b.get(SchedulerService).isLeader()).toBe(false);
    await stop(a);
    await waitFor(() => b.get(SchedulerService).isLeader(), 2_000, 'the follower to take over');
  });

  it('warns at start when the server keeps nothing on disk', async () => {
    const warn = vi.mocked(Logger.prototype.warn);
    await start({ queues: false, peer: false });
    const admin = new Redis(redisUrl());
    const [, config] = (await admin.config('GET', 'appendonly')) as string[];
    const [, save] = (await admin.config('GET', 'save')) as string[];
    await admin.quit();
    const warned = warn.mock.calls.some(([message]) => String(message).includes('keeps nothing on disk'));
    expect(warned).toBe(config === 'no' && !save);
  });
});

describe('SchedulerModule on a Redis server that restarts', () => {
  it('keeps queued jobs through a restart of a server with AOF, and the node goes on by itself', async () => {
    const server = await startRedisServer(['--save', '', '--appendonly', 'yes', '--appendfsync', 'always']);
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    let app: TestingModule | null = null;
    try {
      // A web node enqueues a job due later; no node runs jobs yet.
      const web = await Test.createTestingModule({
        imports: [SchedulerModule.forRoot({ store: { type: 'redis', url: server.url }, queues: false, peer: false, pollInterval: '1s' })],
        providers: [Jobs],
      }).compile();
      await web.init();
      const early = await web.get(SchedulerService).enqueue('record', { n: 'before' });
      await server.restart();
      // The web node's own connections come back by themselves.
      await waitFor(
        async () => {
          try {
            return (await web.get(SchedulerService).enqueue('record', { n: 'after' })).id !== early.id;
          } catch {
            return false;
          }
        },
        10_000,
        'an enqueue after the restart',
      );
      await web.close();
      app = await Test.createTestingModule({
        imports: [SchedulerModule.forRoot({ store: { type: 'redis', url: server.url }, pollInterval: '1s' })],
        providers: [Jobs],
      }).compile();
      await app.init();
      const records = () => app!.get(Jobs).runs.filter((r) => r.name === 'record');
      await waitFor(() => records().length >= 2, 10_000, 'both jobs to run');
      expect(
        records()
          .map((r) => (r.args as { n: string }).n)
          .sort(),
      ).toEqual(['after', 'before']);
      // AOF on: no persistence warning.
      expect(warn.mock.calls.some(([message]) => String(message).includes('on disk'))).toBe(false);
    } finally {
      await app?.close();
      await server.stop();
      warn.mockRestore();
    }
  });
});
