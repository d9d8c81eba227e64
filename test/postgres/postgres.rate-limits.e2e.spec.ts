import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SchedulerModule, SchedulerService, type JobSkipEvent, type SchedulerModuleOptions } from '../../lib/index.js';
import { createTestSchema } from '../support/postgres.js';
import { waitFor } from '../support/wait.js';
import { rateLimitWorkers } from '../support/rate-limit.workers.js';

const { Charge, Email, Report } = rateLimitWorkers('1h');

type Db = Awaited<ReturnType<typeof createTestSchema>>;
const range = (n: number) => Array.from({ length: n }, (_, n) => ({ n }));

// Limits per hour: the test's real time never refills a whole token, so what ran is exactly what the buckets held.
describe('rate limits on PostgreSQL (one bucket for the cluster)', () => {
  let db: Db;
  const apps: TestingModule[] = [];
  const boot = async (options: Partial<SchedulerModuleOptions> = {}) => {
    const app = await Test.createTestingModule({
      imports: [
        SchedulerModule.forRoot({
          store: { type: 'postgres', url: db.url, schema: db.schema, tablePrefix: `rl${apps.length}_` },
          queues: { default: 5, billing: 5 },
          pollInterval: '200ms',
          ...options,
        }),
      ],
      providers: [Charge, Email, Report],
    }).compile();
    await app.init();
    apps.push(app);
    return { app, scheduler: app.get(SchedulerService) };
  };
  beforeAll(async () => {
    db = await createTestSchema('rate');
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a queue limit starts only its tokens; held jobs stay available with no attempt spent, skipped once each; other queues run', async () => {
    const { app, scheduler } = await boot({ rateLimits: { queues: { billing: { limit: 3, per: '1h' } } } });
    const skips: JobSkipEvent[] = [];
    scheduler.on('job:skip', (event) => skips.push(event));
    const charges = await scheduler.enqueueMany('charge', range(5));
    await scheduler.enqueueMany('report', range(4));
    await waitFor(() => app.get(Charge).done.length === 3 && app.get(Report).done.length === 4, 10_000, 'the first three charges and every report');
    await waitFor(() => skips.length === 2, 10_000, 'a skip per held charge');
    // Polls go on; each held job is reported once per wait.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(skips.map((s) => [s.reason, (s.job!.args as { n: number }).n])).toEqual([
      ['rate_limited', 3],
      ['rate_limited', 4],
    ]);
    expect(app.get(Charge).done.sort((a, b) => a - b)).toEqual([0, 1, 2]);
    expect(skips.map((s) => [s.job?.id, s.job?.state, s.job?.attempt])).toEqual(charges.slice(3).map((job) => [job.id, 'available', 0]));
    const status = await scheduler.rateLimits.status('queues', 'billing');
    expect(status.capacity).toBe(3);
    expect(status.refillPerSecond).toBeCloseTo(3 / 3600);
    expect(status.tokens).toBeLessThan(0.1);
  });

  it("a job's own limit holds back only its name; two nodes share its bucket", async () => {
    const a = await boot({ nodeName: 'a' });
    const b = await boot({ nodeName: 'b', store: { type: 'postgres', url: db.url, schema: db.schema, tablePrefix: 'rl0_' } });
    await a.scheduler.enqueueMany('email', range(6));
    await a.scheduler.enqueueMany('report', range(3));
    const emails = () => a.app.get(Email).done.length + b.app.get(Email).done.length;
    const reports = () => a.app.get(Report).done.length + b.app.get(Report).done.length;
    await waitFor(() => emails() === 2 && reports() === 3, 10_000, 'two emails and every report');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(emails()).toBe(2);
    expect((await a.scheduler.rateLimits.status('jobs', 'email')).tokens).toBeLessThan(0.1);
  });
});
