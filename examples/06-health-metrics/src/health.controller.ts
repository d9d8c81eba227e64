import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { SchedulerHealthIndicator } from 'nestjs-scheduler/terminus';

/** The three Kubernetes probes, each a preset of the scheduler's checks (docs/health.md). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly scheduler: SchedulerHealthIndicator,
  ) {}

  /** The loop only: no database, so a database outage never restarts the pod. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.scheduler.liveness()]);
  }

  /** The store answers, the scheduler started, and it is not draining for a shutdown. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.scheduler.readiness()]);
  }

  /** Handlers discovered and the store's migrations done. */
  @Get('startup')
  @HealthCheck()
  startup() {
    return this.health.check([() => this.scheduler.startup()]);
  }
}
