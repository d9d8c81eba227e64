import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, SchedulerModule, SchedulerService, type JobContext, type SchedulerModuleOptions } from '../../lib/index.js';
import { buildClusterNode, clusterScripts } from '../support/cluster/cluster.js';
import { waitFor } from '../support/wait.js';

@Injectable()
class Jobs {
  runs: { id: string; name: string; args: unknown; attempt: number }[] = [];
  @Scheduled({ name: 'record' })
  record(ctx: JobContext) {
    this.runs.push({ id: ctx.id, name: ctx.schedule ?? ctx.name, args: ctx.args, attempt: ctx.attempt });
  }
  @Scheduled({ name: 'hold' })
  hold(ctx: JobContext) {
    this.runs.push({ id: ctx.id, name: ctx.name, args: ctx.args, attempt: ctx.attempt });
  }
}

describe('SchedulerModule on SQLite', () => {
  let dir: string;
  let path: string;
  const apps: TestingModule[] = [];

  /** Boots an app on the test's file as a user would (real clock: leases and polls run in real time). */
  const start = async (options: Partial<SchedulerModuleOptions> = {}): Promise<TestingModule> => {
    const app = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot({ store: { type: 'sqlite', path }, pollInterval: '100ms', peer: { leaseTtl: '3s' }, ...options })],
      providers: [Jobs],
    }).compile();
    await app.init();
    apps.push(app);
    return app;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-e2e-'));
    path = join(dir, 'jobs.db');
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await rm(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('keeps a queued job and a runtime schedule across a restart, and runs the job once, after it', async () => {
    const first = await start({ queues: false });
    const scheduler = first.get(SchedulerService);
    const job = await scheduler.enqueue('record', { day: '2026-12-05' }, { delay: '1s' });
    await scheduler.insert({ name: 'nightly', handler: 'record', cron: '0 3 * * *', args: { kind: 'nightly' } });
    await first.close();
    apps.splice(0);

    const second = await start();
    const again = second.get(SchedulerService);
    expect(await again.getJob('nightly')).toMatchObject({ name: 'nightly', handler: 'record', origin: 'runtime', cron: '0 3 * * *' });
    const jobs = second.get(Jobs);
    await waitFor(() => jobs.runs.length > 0, 10_000, 'the queued job to run after the restart');
    expect(jobs.runs).toEqual([{ id: job.id, name: 'record', args: { day: '2026-12-05' }, attempt: 1 }]);
    // The completion is written after the handler returns (with the other acks of its turn): waited for, not raced.
    const completed = async (): Promise<boolean> => (await again.history('record')).some((j) => j.id === job.id && j.state === 'completed');
    await waitFor(completed, 5_000, 'the job to be recorded completed');
    expect((await again.history('record')).map((j) => [j.id, j.state])).toContainEqual([job.id, 'completed']);
  });

  it('lets one of two apps on one file lead, and hands a job to exactly one of them', async () => {
    const a = await start();
    const b = await start();
    await waitFor(async () => (await a.get(SchedulerService).leaderNode()) !== null, 5_000, 'a leader');
    const leaders = [a, b].filter((app) => app.get(SchedulerService).isLeader());
    expect(leaders).toHaveLength(1);
    // Both apps share one Jobs class but each has its own instance; count runs across both.
    const enqueued = await Promise.all(Array.from({ length: 20 }, (_, i) => a.get(SchedulerService).enqueue('record', { i })));
    const runs = () => [a, b].flatMap((app) => app.get(Jobs).runs);
    await waitFor(() => runs().length >= 20, 10_000, 'every job to run');
    expect(
      runs()
        .map((r) => r.id)
        .sort(),
    ).toEqual(enqueued.map((j) => j.id).sort());
  });

  it('runs a fixed-name node’s @reboot warm-up once a start: the earlier start’s job, handed back unrun, is discarded at the next', async () => {
    const runs: { start: number; id: string }[] = [];
    let current = 0;
    @Injectable()
    class Warmup {
      @Scheduled({ cron: '@reboot', name: 'warmup' })
      async warm(ctx: JobContext) {
        runs.push({ start: current, id: ctx.id });
        // The first start's warm-up outlives the shutdown grace: aborted and handed back, unrun.
        if (current === 1) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      }
    }
    const boot = async (): Promise<TestingModule> => {
      current++;
      const app = await Test.createTestingModule({
        imports: [SchedulerModule.forRoot({ store: { type: 'sqlite', path }, nodeName: 'worker-1', pollInterval: '100ms', shutdownGracePeriod: '100ms' })],
        providers: [Warmup],
      }).compile();
      await app.init();
      apps.push(app);
      return app;
    };
    const first = await boot();
    await waitFor(() => runs.length === 1, 5_000, 'the first start’s warm-up to run');
    await first.close();
    apps.splice(0);
    const earlier = runs[0]!.id;

    const second = await boot();
    const scheduler = second.get(SchedulerService);
    const state = async (id: string) => (await scheduler.listJobs({ name: 'warmup' })).find((job) => job.id === id)?.state;
    await waitFor(async () => (await state(earlier)) === 'discarded', 5_000, 'the earlier start’s warm-up to be discarded');
    await waitFor(() => runs.length === 2, 5_000, 'this start’s warm-up to run');
    await waitFor(async () => (await state(runs[1]!.id)) === 'completed', 5_000, 'this start’s warm-up to complete');
    expect(runs.map((run) => run.start)).toEqual([1, 2]);
    expect(runs[1]!.id).not.toBe(earlier);
    const [discarded] = (await scheduler.listJobs({ name: 'warmup' })).filter((job) => job.id === earlier);
    expect(discarded?.errors.at(-1)?.message).toMatch(/earlier start of node worker-1/);
  });

  describe('a process killed with a job running and others waiting (kill -9)', () => {
    beforeAll(() => buildClusterNode(), 120_000);

    it('loses nothing: at the next start the running job is rescued at once, and the waiting job and one-time schedule run once', async () => {
      const child = spawn(process.execPath, [clusterScripts.sqliteNode], { env: { ...process.env, SQLITE_PATH: path }, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        await waitFor(() => /running \d+/.test(output) && /enqueued \d+ \d+/.test(output), 15_000, `the child to start its job (output: ${output})`);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      expect(output).not.toContain('ran ');
      const [, holdId, laterId] = /enqueued (\d+) (\d+)/.exec(output)!;

      // rescueAfter of an hour: only the rescue at start can bring the job back in time.
      const app = await start({ lifeline: { rescueAfter: '1h' } });
      const jobs = app.get(Jobs);
      const hold = () => jobs.runs.filter((r) => r.name === 'hold');
      await waitFor(() => hold().length > 0, 5_000, 'the rescued job to run');
      expect(hold()).toEqual([{ id: holdId, name: 'hold', args: { from: 'child' }, attempt: 2 }]);
      await waitFor(() => jobs.runs.length >= 3, 10_000, 'the waiting job and the one-time schedule to run');
      // Time for a second run of anything, which must not come.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(jobs.runs.filter((r) => r.name !== 'hold')).toEqual(
        expect.arrayContaining([
          { id: laterId, name: 'record', args: { from: 'child' }, attempt: 1 },
          expect.objectContaining({ name: 'once', args: { from: 'schedule' }, attempt: 1 }),
        ]),
      );
      expect(jobs.runs).toHaveLength(3);
      const scheduler = app.get(SchedulerService);
      const [done] = (await scheduler.history('hold')).filter((j) => j.id === holdId);
      expect(done?.state).toBe('completed');
      expect(done?.errors.map((e) => e.kind)).toEqual(['lease-lost']);
    });
  });
});
