import { BadRequestException, Body, Controller, Get, Post, Query } from '@nestjs/common';
import { CronNotExpressibleError, SchedulerService, type AnyScheduleBuilder } from 'nestjs-scheduler';
import { officeHoursPoll, restockReport, syncInventory } from './inventory.jobs.js';
import { PingWorker } from './ping.worker.js';

const builders: Record<string, AnyScheduleBuilder> = {
  'sync-inventory': syncInventory,
  'restock-report': restockReport,
  'office-hours-poll': officeHoursPoll,
};

@Controller('schedules')
export class SchedulesController {
  constructor(private readonly scheduler: SchedulerService) {}

  /** Every schedule as the scheduler knows it: its sentence and its next run. */
  @Get()
  async list() {
    const jobs = await this.scheduler.all();
    return jobs.filter((job) => job.kind !== 'queued').map((job) => ({ name: job.name, description: job.description, nextRunAt: job.nextRunAt }));
  }

  /** What each decorated rule says, as cron, and its next runs after `from` (default: now). */
  @Get('plans')
  plans(@Query('from') from?: string, @Query('runs') runs = '3') {
    const start = from ? new Date(from) : new Date();
    if (Number.isNaN(start.getTime())) throw new BadRequestException('from: expected an ISO 8601 date');
    return Object.entries(builders).map(([name, builder]) => ({
      name,
      description: builder.describe(),
      cron: cronOf(builder),
      nextRuns: builder.nextRuns(Math.min(Number(runs) || 3, 20), start),
    }));
  }

  /** Adds a health check at runtime: stored, so it survives restarts and every node sees it. */
  @Post('health-checks')
  async addHealthCheck(@Body() body: { name: string; url: string; minutes: number }) {
    if (!Number.isInteger(body.minutes) || body.minutes < 1 || body.minutes > 59) throw new BadRequestException('minutes: a whole number from 1 to 59');
    const info = await this.scheduler
      .every(body.minutes)
      .minutes()
      .do(body.name, PingWorker, { args: { url: body.url } });
    return { name: info.name, description: info.description, nextRunAt: info.nextRunAt };
  }
}

/** `toCron()`, or `null` when no single cron expression says the same. */
function cronOf(builder: AnyScheduleBuilder): string | null {
  try {
    return builder.toCron();
  } catch (error) {
    if (error instanceof CronNotExpressibleError) return null;
    throw error;
  }
}
