import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FakeClock, SchedulerTester } from 'nestjs-scheduler/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppModule, schedulerModule } from '../src/app.module.js';
import { ReportsJobs } from '../src/reports.jobs.js';
import { SchedulerModule } from 'nestjs-scheduler';

describe('basic cron (e2e)', () => {
  let app: INestApplication;
  let clock: FakeClock;

  beforeEach(async () => {
    // Friday 2026-01-02, 10:59:50 UTC (05:59:50 in New York): time only moves when the test moves it.
    clock = new FakeClock(new Date('2026-01-02T10:59:50Z'));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideModule(schedulerModule)
      .useModule(SchedulerModule.forRoot({ clock }))
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterEach(() => app.close());

  it('runs the minute report on each minute and the heartbeat every 10 seconds', async () => {
    const tester = new SchedulerTester(app);
    await clock.advance('2m10s'); // to 11:02:00
    await tester.drainQueue();

    tester.assertCompleted('minute-report', 3); // 11:00, 11:01 and 11:02
    tester.assertCompleted('heartbeat', 13); // 11:00:00, 11:00:10 … 11:02:00
    const jobs = app.get(ReportsJobs);
    expect(jobs.log.filter((line) => line.startsWith('minute report'))).toEqual([
      'minute report for 2026-01-02T11:00:00.000Z',
      'minute report for 2026-01-02T11:01:00.000Z',
      'minute report for 2026-01-02T11:02:00.000Z',
    ]);
  });

  it('lists the schedules with their next runs, and one schedule with its history', async () => {
    const tester = new SchedulerTester(app);
    await clock.advance('70s'); // to 11:01:00
    await tester.drainQueue();

    const list = await request(app.getHttpServer()).get('/schedules').expect(200);
    const digest = (list.body as { name: string; nextRunAt: string }[]).find((s) => s.name === 'daily-digest');
    // Friday 06:00 in New York was 10 s away when the app started: it ran, and the next is Monday's.
    tester.assertCompleted('daily-digest', 1);
    expect(digest?.nextRunAt).toBe('2026-01-05T11:00:00.000Z');

    const one = await request(app.getHttpServer()).get('/schedules/minute-report').expect(200);
    expect(one.body.status.lastOutcome).toBe('completed');
    expect(one.body.history[0]).toMatchObject({ state: 'completed', result: { lines: expect.any(Number) } });
  });
});
