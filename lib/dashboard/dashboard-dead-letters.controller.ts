import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { SchedulerService } from '../scheduler.service.js';
import type { DeadLetterClass } from '../store/dead-letter-store.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardMutation } from './dashboard-actions.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { pageOffset, pageSize } from './dashboard-paging.js';
import { DashboardAudit } from './dashboard.audit.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { DashboardRequest, ResolvedDashboardOptions } from './dashboard.options.js';
import { deadLetterView, type DashboardDeadLetter } from './dashboard-dead-letter.views.js';
import { jobSummary } from './dashboard-job.views.js';
import type { DashboardJobRetry } from './dashboard-jobs.controller.js';

/** `GET api/dead-letters`: one page, newest death first; `nextOffset` is `null` on the last. @publicApi */
export interface DashboardDeadLetterPage {
  deadLetters: DashboardDeadLetter[];
  limit: number;
  offset: number;
  nextOffset: number | null;
}

/**
 * `GET api/dead-letters?queue&name&errorClass&limit&offset`, `POST api/dead-letters/:id/retry`.
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardDeadLettersController {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly audit: DashboardAudit,
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
  ) {}

  @Get('api/dead-letters')
  async list(
    @Query('queue') queue?: string,
    @Query('name') name?: string,
    @Query('errorClass') errorClass?: string,
    @Query('limit') limit?: string,
    @Query('offset') offset?: string,
  ): Promise<DashboardDeadLetterPage> {
    const size = pageSize(limit, this.options.maxPageSize);
    const from = pageOffset(offset);
    const entries = await this.scheduler.deadLetters.list({
      limit: size + 1,
      offset: from,
      ...(queue ? { queue } : {}),
      ...(name ? { name } : {}),
      ...(errorClass ? { errorClass: errorClass as DeadLetterClass } : {}),
    });
    return {
      deadLetters: entries.slice(0, size).map((entry) => deadLetterView(entry, this.options.redact)),
      limit: size,
      offset: from,
      nextOffset: entries.length > size ? from + size : null,
    };
  }

  /** Puts a dead letter back in its queue, due now, with fresh attempts. */
  @Post('api/dead-letters/:id/retry')
  @HttpCode(200)
  @DashboardMutation('deadLetters.retry', 'id')
  retry(@Req() req: DashboardRequest, @Param('id') id: string): Promise<DashboardJobRetry> {
    return this.audit.run(req, 'deadLetters.retry', id, async () => ({ job: jobSummary(await this.scheduler.deadLetters.retry(id)) }));
  }
}
