import 'reflect-metadata';
import { Controller, Get, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule, type HealthCheckResult } from '@nestjs/terminus';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, Scheduled, SchedulerModule, SchedulerService, Worker, type JobWorker } from '../../lib/index.js';
import { SchedulerHealthIndicator } from '../../lib/terminus/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { T0 } from '../support/app.js';
import { wedgeable } from '../support/wedgeable.store.js';

@Worker({ name: 'doomed', maxRetries: 0 })
class Doomed implements JobWorker<Record<string, never>> {
  perform() {
    throw new Error('no luck');
  }
}

@Injectable()
class Ticks {
  @Scheduled({ every: '1m', name: 'tick' })
  tick() {}
}

/** The controller an app writes: one route per probe. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly scheduler: SchedulerHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.scheduler.liveness()]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.scheduler.readiness()]);
  }

  @Get('startup')
  @HealthCheck()
  startup(): Promise<HealthCheckResult> {
    return this.health.check([() => this.scheduler.startup()]);
  }

  @Get()
  @HealthCheck()
  all(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.scheduler.loop(),
      () => this.scheduler.store(),
      () => this.scheduler.leader('who-leads'),
      () => this.scheduler.lag({ warnMs: 60_000 }),
      () => this.scheduler.stuck(),
      () => this.scheduler.deadLetters('dlq', { max: 5 }),
    ]);
  }
}

describe('SchedulerHealthIndicator with @nestjs/terminus', () => {
  let app: TestingModule;
  let clock: FakeClock;
  let store: MemoryStore;
  let controller: HealthController;

  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    clock = new FakeClock(T0);
    store = new MemoryStore();
    app = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot({ clock, store, nodeName: 'node-a', pollInterval: '1s' }), TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [SchedulerHealthIndicator, Doomed],
    }).compile();
    await app.init();
    controller = app.get(HealthController);
  });
  afterEach(async () => {
    await app.close();
    vi.restoreAllMocks();
  });

  it('the presets answer under one key, scheduler, with the checks, node, leader and lag in its details', async () => {
    const live = await controller.live();
    expect(live.status).toBe('ok');
    expect(live.info?.scheduler).toMatchObject({ status: 'up', node: 'node-a', leader: { self: true, node: 'node-a' }, checks: { loop: { status: 'up' } } });
    expect((await controller.ready()).details.scheduler).toMatchObject({
      status: 'up',
      checks: { store: { status: 'up' }, started: { status: 'up' }, draining: { status: 'up' } },
    });
    expect((await controller.startup()).details.scheduler).toMatchObject({
      status: 'up',
      checks: { discovery: { status: 'up' }, migrations: { status: 'up' } },
    });
  });

  it('each check has its key (scheduler_<check> or the one given); a degraded check makes the result degraded, not an error', async () => {
    const ok = await controller.all();
    expect(ok.status).toBe('ok');
    expect(Object.keys(ok.details).sort()).toEqual(['dlq', 'scheduler_lag', 'scheduler_loop', 'scheduler_store', 'scheduler_stuck', 'who-leads']);
    expect(ok.details['who-leads']).toEqual({ status: 'up', leader: 'node-a' });

    await app.get(SchedulerService).enqueue('doomed', {});
    // The job dies at its first attempt; past the 5 s the dead-letter read is kept, the check reads again.
    await clock.advance('6s');
    const degraded = await controller.all();
    expect(degraded.status).toBe('degraded');
    expect(degraded.details.dlq).toMatchObject({ status: 'degraded', count: 1 });
  });

  it('a down check makes check() answer 503 with the reason', async () => {
    vi.spyOn(store, 'ping').mockRejectedValue(new Error('connection refused'));
    const error = await controller.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableException);
    const body = (error as ServiceUnavailableException).getResponse() as HealthCheckResult;
    expect(body.status).toBe('error');
    expect(body.error?.scheduler).toMatchObject({ status: 'down', checks: { store: { status: 'down', message: 'connection refused' } } });
  });

  it('the liveness route answers 503 once the planner loop is wedged, while the readiness route still says ok', async () => {
    await app.close();
    const s = wedgeable();
    clock = new FakeClock(T0);
    app = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot({ clock, store: s.option, pollInterval: '1s' }), TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [SchedulerHealthIndicator, Ticks],
    }).compile();
    await app.init();
    controller = app.get(HealthController);
    s.hang.insert = true;
    await clock.advance('1m');
    expect((await controller.live()).status).toBe('ok');
    await clock.advance('3001ms');
    const error = await controller.live().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableException);
    expect(((error as ServiceUnavailableException).getResponse() as HealthCheckResult).error?.scheduler).toMatchObject({
      status: 'down',
      checks: { loop: { status: 'down', stalledMs: 3001 } },
    });
    expect((await controller.ready()).status).toBe('ok');
    s.release();
  });
});
