import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SchedulerModule } from 'nestjs-scheduler';
import { FakeClock, SchedulerTester } from 'nestjs-scheduler/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppModule, schedulerModule } from '../src/app.module.js';

const at = (...times: string[]) => times.map((t) => `2026-12-${t}:00.000Z`);

describe('fluent builder schedules (e2e)', () => {
  let app: INestApplication;
  let clock: FakeClock;
  let tester: SchedulerTester;

  beforeEach(async () => {
    // Monday 2026-12-07, 06:58 UTC: 07:58 in Paris (UTC+1 in winter).
    clock = new FakeClock(new Date('2026-12-07T06:58:00Z'));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideModule(schedulerModule)
      .useModule(SchedulerModule.forRoot({ clock }))
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
    tester = new SchedulerTester(app);
  });

  afterEach(() => app.close());

  it('shows what each rule says, its cron and its next runs', async () => {
    const plans = await request(app.getHttpServer()).get('/schedules/plans').query({ from: '2026-12-07T06:58:00Z', runs: 3 }).expect(200);
    expect(plans.body).toEqual([
      {
        name: 'sync-inventory',
        description: 'Every 5 minutes (Etc/UTC); clock-aligned: cron "*/5 * * * *"; skipped while the previous run is queued or running',
        cron: '*/5 * * * *',
        nextRuns: at('07T07:00', '07T07:05', '07T07:10'),
      },
      {
        name: 'restock-report',
        description: 'Every Monday and Thursday at 08:00 (Europe/Paris); clock-aligned: cron "0 8 * * 1,4"',
        cron: '0 8 * * 1,4',
        nextRuns: at('07T07:00', '10T07:00', '14T07:00'), // 08:00 in Paris is 07:00 UTC in winter
      },
      {
        name: 'office-hours-poll',
        description: 'Every 15 minutes between 09:00 and 17:00 on weekdays (Europe/Paris); clock-aligned: cron "*/15 * * * *"',
        cron: '*/15 9-16 * * 1,2,3,4,5', // the window and the days folded in (the hours are Paris time)
        nextRuns: at('07T08:00', '07T08:15', '07T08:30'),
      },
    ]);
    // Friday evening: the office-hours poll's next runs are on Monday morning.
    const friday = await request(app.getHttpServer()).get('/schedules/plans').query({ from: '2026-12-11T16:00:00Z', runs: 2 }).expect(200);
    expect(friday.body[2].nextRuns).toEqual(at('14T08:00', '14T08:15'));
  });

  it('runs each decorated schedule at its ticks as the clock moves', async () => {
    await clock.advanceTo(new Date('2026-12-07T08:30:00Z')); // 09:30 in Paris
    await tester.drainQueue();

    const ticks = (name: string) => tester.runs(name).map((r) => r.job.scheduledAt.toISOString());
    tester.assertCompleted('sync-inventory', 19); // 07:00, 07:05 … 08:30
    expect(ticks('sync-inventory').slice(0, 3)).toEqual(at('07T07:00', '07T07:05', '07T07:10'));
    expect(ticks('restock-report')).toEqual(at('07T07:00'));
    expect(ticks('office-hours-poll')).toEqual(at('07T08:00', '07T08:15', '07T08:30'));
  });

  it('adds schedules at runtime with scheduler.every(n).minutes().do(): anchored or clock-aligned', async () => {
    const http = request(app.getHttpServer());
    await clock.advanceTo(new Date('2026-12-07T08:30:00Z'));
    // 7 does not divide 60: a fixed interval from the insert, 08:37, 08:44 …
    const partner = await http.post('/schedules/health-checks').send({ name: 'partner-api', url: 'https://partner.example/health', minutes: 7 }).expect(201);
    expect(partner.body).toEqual({
      name: 'partner-api',
      description: 'Every 7 minutes (Etc/UTC); a fixed interval anchored at 2026-12-07T08:30:00.000Z, not aligned to the clock',
      nextRunAt: '2026-12-07T08:37:00.000Z',
    });
    // 10 divides 60: clock-aligned, 08:40, 08:50 …
    const warehouse = await http.post('/schedules/health-checks').send({ name: 'warehouse', url: 'https://warehouse.example/health', minutes: 10 }).expect(201);
    expect(warehouse.body).toMatchObject({
      description: 'Every 10 minutes (Etc/UTC); clock-aligned: cron "*/10 * * * *"',
      nextRunAt: '2026-12-07T08:40:00.000Z',
    });
    await http.post('/schedules/health-checks').send({ name: 'bad', url: 'x', minutes: 90 }).expect(400);

    await clock.advance('21m'); // to 08:51
    await tester.drainQueue();
    const pings = (name: string) => tester.runs(name).map((r) => [r.job.scheduledAt.toISOString(), r.result]);
    expect(pings('partner-api')).toEqual(at('07T08:37', '07T08:44', '07T08:51').map((t) => [t, { url: 'https://partner.example/health' }]));
    expect(pings('warehouse')).toEqual(at('07T08:40', '07T08:50').map((t) => [t, { url: 'https://warehouse.example/health' }]));

    const list = await http.get('/schedules').expect(200);
    expect((list.body as { name: string; nextRunAt: string }[]).map((s) => [s.name, s.nextRunAt])).toEqual([
      ['sync-inventory', '2026-12-07T08:55:00.000Z'],
      ['restock-report', '2026-12-10T07:00:00.000Z'],
      ['office-hours-poll', '2026-12-07T09:00:00.000Z'],
      ['partner-api', '2026-12-07T08:58:00.000Z'],
      ['warehouse', '2026-12-07T09:00:00.000Z'],
    ]);
  });
});
