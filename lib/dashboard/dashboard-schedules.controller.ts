import { Controller, Get, HttpCode, Param, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { SchedulerService } from '../scheduler.service.js';
import type { JobInfo } from '../scheduler.types.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardMutation } from './dashboard-actions.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { DashboardAudit } from './dashboard.audit.js';
import type { DashboardRequest } from './dashboard.options.js';
import { jobSummary, type DashboardJobSummary } from './dashboard-job.views.js';
import { scheduleView, type DashboardSchedule } from './dashboard-schedule.views.js';

/** What `POST api/schedules/:name/{pause,resume}` answers. @publicApi */
export interface DashboardScheduleChange {
  name: string;
  paused: boolean;
}

/** What `POST api/schedules/:name/run-now` answers: the job (an existing one when `duplicate`, as its overlap rule kept). @publicApi */
export interface DashboardRunNow {
  job: DashboardJobSummary;
  duplicate: boolean;
}

const NEXT_RUNS = 5;
const TICKING = new Set<JobInfo['kind']>(['cron', 'every', 'at']);

/**
 * `GET api/schedules`, `POST api/schedules/:name/{pause,resume,run-now}`.
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardSchedulesController {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly audit: DashboardAudit,
  ) {}

  /** Every schedule (jobs with a rule, not handlers that only run what is enqueued), by name. */
  @Get('api/schedules')
  async list(): Promise<DashboardSchedule[]> {
    const schedules = (await this.scheduler.all()).filter((info) => info.kind !== 'queued');
    return schedules
      .map((info) => scheduleView(info, TICKING.has(info.kind) ? this.scheduler.nextRuns(info.name, NEXT_RUNS) : []))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  @Post('api/schedules/:name/pause')
  @HttpCode(200)
  @DashboardMutation('schedules.pause', 'name')
  pause(@Req() req: DashboardRequest, @Param('name') name: string): Promise<DashboardScheduleChange> {
    return this.audit.run(req, 'schedules.pause', name, async () => {
      await this.scheduler.pauseJob(name);
      return { name, paused: true };
    });
  }

  @Post('api/schedules/:name/resume')
  @HttpCode(200)
  @DashboardMutation('schedules.resume', 'name')
  resume(@Req() req: DashboardRequest, @Param('name') name: string): Promise<DashboardScheduleChange> {
    return this.audit.run(req, 'schedules.resume', name, async () => {
      await this.scheduler.resumeJob(name);
      return { name, paused: false };
    });
  }

  /** One run now (its overlap rule still applies). */
  @Post('api/schedules/:name/run-now')
  @HttpCode(200)
  @DashboardMutation('schedules.runNow', 'name')
  runNow(@Req() req: DashboardRequest, @Param('name') name: string): Promise<DashboardRunNow> {
    return this.audit.run(req, 'schedules.runNow', name, async () => {
      await this.scheduler.getJob(name);
      const job = await this.scheduler.runNow(name);
      return { job: jobSummary(job), duplicate: job.duplicate };
    });
  }
}
