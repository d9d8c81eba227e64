import { ConflictException, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { JobNotFoundError } from '../scheduler.errors.js';
import { SchedulerHost } from '../scheduler.host.js';
import { SchedulerService } from '../scheduler.service.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardMutation } from './dashboard-actions.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { DashboardAudit } from './dashboard.audit.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { DashboardRequest, ResolvedDashboardOptions } from './dashboard.options.js';
import { jobDetail, jobSummary, type DashboardJobDetail, type DashboardJobSummary } from './dashboard-job.views.js';
import { pageSize } from './dashboard-paging.js';
import { jobMatchesSearch, parseCursor, parseJobSearch, type DashboardJobSearchPage } from './dashboard-search.js';
import { DashboardWaiting } from './dashboard-waiting.js';

/** What `POST api/jobs/:id/cancel` answers. @publicApi */
export interface DashboardJobCancel {
  id: string;
  /** 1 when it was cancelled, 0 when it had already finished. */
  cancelled: number;
}

/** What a retry answers: the job, available again. @publicApi */
export interface DashboardJobRetry {
  job: DashboardJobSummary;
}

/**
 * `GET api/jobs` (filters, keyset paging), `GET api/jobs/:id`, `POST api/jobs/:id/{retry,cancel}`.
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardJobsController {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly host: SchedulerHost,
    private readonly audit: DashboardAudit,
    private readonly waiting: DashboardWaiting,
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
  ) {}

  /**
   * Newest first. `q` is a search (docs/dashboard.md, "Search"), ANDed with
   * `state` (several: `state=dead,discarded`), `queue` and `name`; `cursor` is
   * the previous page's `nextCursor`. `total` is counted up to `countCap`.
   */
  @Get('api/jobs')
  async list(
    @Query('q') q?: string,
    @Query('state') state?: string,
    @Query('queue') queue?: string,
    @Query('name') name?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ): Promise<DashboardJobSearchPage> {
    const size = pageSize(limit, this.options.maxPageSize);
    const { filter, id } = parseJobSearch({ q, state, queue, name });
    const afterId = parseCursor(cursor);
    if (id !== null) {
      // A jump: the job with that id, if it meets the other terms too.
      const job = await this.scheduler.findJob(id);
      const found = job && jobMatchesSearch(job, filter) ? [jobSummary(job)] : [];
      return { jobs: found, nextCursor: null, limit: size, total: { count: found.length, capped: false } };
    }
    const store = this.host.ports.service.store;
    const cap = this.options.countCap;
    // One more than the cap, to tell "exactly the cap" from "more".
    const [jobs, counted] = await Promise.all([
      store.list({ ...filter, limit: size + 1, ...(afterId ? { afterId } : {}) }),
      store.count(filter, { cap: cap + 1 }),
    ]);
    const page = jobs.slice(0, size);
    return {
      jobs: page.map(jobSummary),
      nextCursor: jobs.length > size ? page.at(-1)!.id : null,
      limit: size,
      total: { count: Math.min(counted, cap), capped: counted > cap },
    };
  }

  /** One job in full; a waiting one with the reasons it does not run. */
  @Get('api/jobs/:id')
  async get(@Param('id') id: string): Promise<DashboardJobDetail> {
    const job = await this.scheduler.findJob(id);
    if (!job) throw new JobNotFoundError(id);
    return jobDetail(job, this.options.redact, await this.waiting.explain(job));
  }

  /** Puts a dead job back in its queue with fresh attempts (only a dead job: 409 otherwise). */
  @Post('api/jobs/:id/retry')
  @HttpCode(200)
  @DashboardMutation('jobs.retry', 'id')
  retry(@Req() req: DashboardRequest, @Param('id') id: string): Promise<DashboardJobRetry> {
    return this.audit.run(req, 'jobs.retry', id, async () => {
      const job = await this.scheduler.findJob(id);
      if (!job) throw new NotFoundException({ statusCode: 404, reason: 'not_found', message: `job "${id}" not found` });
      if (job.state !== 'dead')
        throw new ConflictException({ statusCode: 409, reason: 'conflict', message: `only a dead job can be retried; job "${id}" is ${job.state}` });
      return { job: jobSummary(await this.scheduler.deadLetters.retry(id)) };
    });
  }

  /** Cancels a queued or running job (a running one's signal is aborted). */
  @Post('api/jobs/:id/cancel')
  @HttpCode(200)
  @DashboardMutation('jobs.cancel', 'id')
  cancel(@Req() req: DashboardRequest, @Param('id') id: string): Promise<DashboardJobCancel> {
    return this.audit.run(req, 'jobs.cancel', id, async () => {
      // By id only: `cancelJob` also takes a handler's name, which this route must not.
      if (!(await this.scheduler.findJob(id))) throw new JobNotFoundError(id);
      return { id, cancelled: await this.scheduler.cancelJob(id, { reason: 'cancelled from the dashboard' }) };
    });
  }
}
