// First, as in main.ts: the SDK is registered before the scheduler starts.
import { metricsReader } from '../src/telemetry.js';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { SchedulerModule } from 'nestjs-scheduler';
import { FakeClock, SchedulerTester } from 'nestjs-scheduler/testing';
import request from 'supertest';
import { metrics } from '@opentelemetry/api';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppModule, schedulerModule } from '../src/app.module.js';
import type { InstrumentSnapshot } from '../src/metrics.controller.js';

/** Each preset answers one key, `scheduler`, with the node, the leader and its checks. */
const upBody = (checks: Record<string, unknown>) => {
  const scheduler = { node: 'node-1', leader: { self: true, node: 'node-1' }, queues: null, checks, status: 'up' };
  return { status: 'ok', info: { scheduler }, error: {}, details: { scheduler } };
};

/** An instrument's points as [attributes, count for a histogram or value]. */
const pointsOf = (snapshot: InstrumentSnapshot[], name: string) =>
  snapshot.find((instrument) => instrument.name === name)?.points.map((p) => [p.attributes, p.count ?? p.value]);

const job = (name: string) => ({ 'scheduler.queue': 'default', 'scheduler.job.name': name });

describe('health probes and metrics (e2e)', () => {
  let app: INestApplication;
  let clock: FakeClock;

  beforeEach(async () => {
    // 10:59:55 UTC: time only moves when the test moves it.
    clock = new FakeClock(new Date('2026-01-02T10:59:55Z'));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideModule(schedulerModule)
      .useModule(SchedulerModule.forRoot({ clock, nodeName: 'node-1' }))
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterEach(() => app.close());
  // The SDK was registered globally by src/telemetry.ts: take it back, for the test files that run after this one.
  afterAll(() => metrics.disable());

  it('answers the three probes with 200 and the checks of their presets', async () => {
    const server = app.getHttpServer();
    const live = await request(server).get('/health/live').expect(200);
    expect(live.body).toEqual(upBody({ loop: { status: 'up', stalledMs: 0, maxStallMs: 3000 } }));
    const ready = await request(server).get('/health/ready').expect(200);
    expect(ready.body).toEqual(upBody({ store: { status: 'up', responseMs: 0 }, started: { status: 'up' }, draining: { status: 'up' } }));
    const startup = await request(server).get('/health/startup').expect(200);
    expect(startup.body).toEqual(upBody({ discovery: { status: 'up' }, migrations: { status: 'up' } }));
  });

  it('records the runs in the SDK: durations, attempts, enqueues and ticks, per job and outcome', async () => {
    const tester = new SchedulerTester(app);
    await clock.advance('65s'); // to 11:01:00: sync-orders at :00, :10 … 11:01:00 (7), rebuild-index at 11:00 and 11:01 (2)
    await tester.drainQueue();
    tester.assertCompleted('sync-orders', 7);

    // Read straight from the SDK's reader, as an exporter would.
    const { resourceMetrics, errors } = await metricsReader.collect();
    expect(errors).toEqual([]);
    const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === 'nestjs-scheduler');
    const duration = scope?.metrics.find((m) => m.descriptor.name === 'scheduler.job.duration');
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration?.descriptor.unit).toBe('s');

    // The same through the app's endpoint.
    const { body } = await request(app.getHttpServer()).get('/metrics-snapshot').expect(200);
    const snapshot = body as InstrumentSnapshot[];
    expect(pointsOf(snapshot, 'scheduler.job.duration')).toEqual([
      [{ ...job('sync-orders'), 'scheduler.job.outcome': 'success' }, 7],
      [{ ...job('rebuild-index'), 'scheduler.job.outcome': 'dead', 'error.type': 'SearchUnavailableError' }, 2],
    ]);
    expect(pointsOf(snapshot, 'scheduler.job.attempts')).toEqual([
      [{ ...job('sync-orders'), 'scheduler.job.outcome': 'success' }, 7],
      [{ ...job('rebuild-index'), 'scheduler.job.outcome': 'dead' }, 2],
    ]);
    expect(pointsOf(snapshot, 'scheduler.job.enqueued')).toEqual([
      [{ ...job('sync-orders'), 'scheduler.job.source': 'interval' }, 7],
      [{ ...job('rebuild-index'), 'scheduler.job.source': 'interval' }, 2],
    ]);
    expect(pointsOf(snapshot, 'scheduler.job.queue_time')).toEqual([
      [job('sync-orders'), 7],
      [job('rebuild-index'), 2],
    ]);
    expect(pointsOf(snapshot, 'scheduler.schedule.ticks')).toEqual([
      [{ 'scheduler.schedule.name': 'sync-orders', 'scheduler.tick.outcome': 'fired' }, 7],
      [{ 'scheduler.schedule.name': 'rebuild-index', 'scheduler.tick.outcome': 'fired' }, 2],
    ]);
    // The fake clock fires each tick on time: every tick was 0 s late.
    expect(pointsOf(snapshot, 'scheduler.schedule.lateness')).toEqual([
      [{ 'scheduler.schedule.name': 'sync-orders' }, 7],
      [{ 'scheduler.schedule.name': 'rebuild-index' }, 2],
    ]);
    expect(snapshot.find((instrument) => instrument.name === 'scheduler.schedule.lateness')?.points.map((p) => p.sum)).toEqual([0, 0]);
    expect(pointsOf(snapshot, 'scheduler.jobs.executing')).toEqual([[{ 'scheduler.queue': 'default' }, 0]]);
    expect(pointsOf(snapshot, 'scheduler.queue.limit')).toEqual([[{ 'scheduler.queue': 'default' }, 10]]);
    expect(pointsOf(snapshot, 'scheduler.leader')).toEqual([[{}, 1]]);
  });
});
