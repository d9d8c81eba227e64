import { Controller, HttpCode, Param, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { SchedulerService } from '../scheduler.service.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardMutation } from './dashboard-actions.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { DashboardAudit } from './dashboard.audit.js';
import type { DashboardRequest } from './dashboard.options.js';
import { jobSummary } from './dashboard-job.views.js';
import type { DashboardJobRetry } from './dashboard-jobs.controller.js';

/** What `POST api/jobs/:id/delete` answers. @publicApi */
export interface DashboardJobDelete {
  id: string;
  deleted: true;
}

/**
 * `POST api/jobs/:id/run-now` (a waiting job due now) and `POST api/jobs/:id/delete`
 * (a job that does not run); a job in another state answers 409.
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardJobActionsController {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly audit: DashboardAudit,
  ) {}

  /** A waiting job (delayed, scheduled, a retry's backoff) made due now, its attempts unchanged. */
  @Post('api/jobs/:id/run-now')
  @HttpCode(200)
  @DashboardMutation('jobs.runNow', 'id')
  runNow(@Req() req: DashboardRequest, @Param('id') id: string): Promise<DashboardJobRetry> {
    return this.audit.run(req, 'jobs.runNow', id, async () => ({ job: jobSummary(await this.scheduler.runJobNow(id)) }));
  }

  /** A waiting or finished job removed from the store; a running one must be cancelled first. */
  @Post('api/jobs/:id/delete')
  @HttpCode(200)
  @DashboardMutation('jobs.delete', 'id')
  delete(@Req() req: DashboardRequest, @Param('id') id: string): Promise<DashboardJobDelete> {
    return this.audit.run(req, 'jobs.delete', id, async () => {
      await this.scheduler.deleteJob(id);
      return { id, deleted: true as const };
    });
  }
}
