import { Controller, Get, HttpCode, Param, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { SchedulerService } from '../scheduler.service.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardMutation } from './dashboard-actions.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { DashboardStats } from './dashboard-stats.service.js';
import { DashboardAudit } from './dashboard.audit.js';
import type { DashboardRequest } from './dashboard.options.js';
import { queueView, type DashboardOverview, type DashboardQueue } from './dashboard-queue.views.js';

/** What a queue action answers. @publicApi */
export interface DashboardQueueChange {
  queue: string;
  paused: boolean;
}

/**
 * `GET api/overview`, `GET api/queues[/:queue]`, `POST api/queues/:queue/{pause,resume}`.
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardQueuesController {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly stats: DashboardStats,
    private readonly audit: DashboardAudit,
  ) {}

  /** The shared snapshot: counts per queue and state, totals, leader, health. */
  @Get('api/overview')
  overview(): Promise<DashboardOverview> {
    return this.stats.overview();
  }

  /** The queues of the shared snapshot. */
  @Get('api/queues')
  async queues(): Promise<DashboardQueue[]> {
    return (await this.stats.overview()).queues;
  }

  /** One queue, read now. */
  @Get('api/queues/:queue')
  async queue(@Param('queue') queue: string): Promise<DashboardQueue> {
    return queueView(await this.scheduler.queueStats(queue));
  }

  @Post('api/queues/:queue/pause')
  @HttpCode(200)
  @DashboardMutation('queues.pause', 'queue')
  pause(@Req() req: DashboardRequest, @Param('queue') queue: string): Promise<DashboardQueueChange> {
    return this.audit.run(req, 'queues.pause', queue, async () => {
      await this.scheduler.pauseQueue(queue);
      return { queue, paused: true };
    });
  }

  @Post('api/queues/:queue/resume')
  @HttpCode(200)
  @DashboardMutation('queues.resume', 'queue')
  resume(@Req() req: DashboardRequest, @Param('queue') queue: string): Promise<DashboardQueueChange> {
    return this.audit.run(req, 'queues.resume', queue, async () => {
      await this.scheduler.resumeQueue(queue);
      return { queue, paused: false };
    });
  }
}
