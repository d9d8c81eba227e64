import { Controller, Get, Param } from '@nestjs/common';
import { SchedulerService } from 'nestjs-scheduler';

@Controller('schedules')
export class SchedulesController {
  constructor(private readonly scheduler: SchedulerService) {}

  /** Every schedule with its next run. */
  @Get()
  async list() {
    const jobs = await this.scheduler.all();
    return jobs.map((job) => ({ name: job.name, cron: job.cron, every: job.every, zone: job.zone, nextRunAt: job.nextRunAt }));
  }

  /** One schedule's status and its last runs. */
  @Get(':name')
  async one(@Param('name') name: string) {
    const [status, history] = await Promise.all([this.scheduler.status(name), this.scheduler.history(name, { limit: 5 })]);
    return { status, history: history.map((job) => ({ scheduledAt: job.scheduledAt, state: job.state, result: job.result })) };
  }
}
