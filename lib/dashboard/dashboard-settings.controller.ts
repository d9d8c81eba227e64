import { Body, ConflictException, Controller, HttpCode, Param, Patch, Put, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import type { RuntimeScheduleInput } from '../schedule/runtime-schedule.js';
import { InvalidArgumentError, JobNotFoundError } from '../scheduler.errors.js';
import { SchedulerService } from '../scheduler.service.js';
import type { JobInfo } from '../scheduler.types.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardMutation } from './dashboard-actions.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { DashboardAudit } from './dashboard.audit.js';
import type { DashboardRequest } from './dashboard.options.js';
import { scheduleView, type DashboardSchedule } from './dashboard-schedule.views.js';
import { shown } from '../common/shown.js';

/** The body of `PUT api/queues/:queue/concurrency`. @publicApi */
export interface DashboardConcurrencyRequest {
  /** The queue's new concurrency on every node: a positive integer. */
  limit: number;
}

/** What `PUT api/queues/:queue/concurrency` answers. @publicApi */
export interface DashboardConcurrencyChange {
  queue: string;
  concurrency: number;
}

/**
 * The body of `PATCH api/schedules/:name`: what `scheduler.update` changes
 * of a runtime schedule (a new rule, `cron`/`every`/`at`/`schedule`, replaces
 * the old one and starts from now), and `paused`.
 * @publicApi
 */
export type DashboardScheduleUpdate = Partial<Omit<RuntimeScheduleInput, 'name' | 'at'>> & {
  /** An ISO 8601 time, for a one-time schedule. */
  at?: string;
  /** Pauses or resumes it (cluster-wide), as `POST …/pause` and `…/resume`. */
  paused?: boolean;
};

/** What `PATCH api/schedules/:name` answers: the schedule after the change. @publicApi */
export interface DashboardScheduleEdit {
  schedule: DashboardSchedule;
}

const TICKING = new Set<JobInfo['kind']>(['cron', 'every', 'at']);

/**
 * `PUT api/queues/:queue/concurrency` (`scheduler.scaleQueue`) and `PATCH
 * api/schedules/:name` (`scheduler.update`, runtime schedules only: a
 * schedule defined in code answers 409).
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardSettingsController {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly audit: DashboardAudit,
  ) {}

  /** A queue's concurrency on every node, kept across restarts. */
  @Put('api/queues/:queue/concurrency')
  @HttpCode(200)
  @DashboardMutation('queues.scale', 'queue')
  scale(@Req() req: DashboardRequest, @Param('queue') queue: string, @Body() body: unknown): Promise<DashboardConcurrencyChange> {
    return this.audit.run(req, 'queues.scale', queue, async () => {
      const limit = objectOf(body).limit;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
        throw new InvalidArgumentError('limit', `must be a positive integer, got ${limit === undefined ? 'nothing' : shown(limit)}`);
      }
      await this.scheduler.scaleQueue(queue, limit);
      return { queue, concurrency: limit };
    });
  }

  /** Changes a runtime schedule; the scheduler's own validation answers 400. */
  @Patch('api/schedules/:name')
  @HttpCode(200)
  @DashboardMutation('schedules.update', 'name')
  update(@Req() req: DashboardRequest, @Param('name') name: string, @Body() body: unknown): Promise<DashboardScheduleEdit> {
    return this.audit.run(req, 'schedules.update', name, async () => {
      const { paused, ...patch } = objectOf(body) as DashboardScheduleUpdate;
      const info = await this.scheduler.getJob(name);
      if (info.kind === 'queued') throw new JobNotFoundError(name, 'schedule');
      if (info.origin !== 'runtime') {
        throw new ConflictException({
          statusCode: 409,
          reason: 'conflict',
          message: `schedule "${name}" is defined in code (@Scheduled or a builder): read-only here; only schedules inserted at runtime can be changed`,
        });
      }
      if (paused !== undefined && typeof paused !== 'boolean') throw new InvalidArgumentError('paused', 'must be a boolean');
      if (paused === undefined && Object.keys(patch).length === 0) throw new InvalidArgumentError('body', 'names nothing to change');
      if (Object.keys(patch).length > 0) await this.scheduler.update(name, patch);
      if (paused === true) await this.scheduler.pauseJob(name);
      if (paused === false) await this.scheduler.resumeJob(name);
      const after = await this.scheduler.getJob(name);
      return { schedule: scheduleView(after, TICKING.has(after.kind) ? this.scheduler.nextRuns(name, 5) : []) };
    });
  }
}

function objectOf(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}
