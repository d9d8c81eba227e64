import { ConflictException, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { InvalidArgumentError } from '../scheduler.errors.js';
import { SchedulerHost } from '../scheduler.host.js';
import { SchedulerService } from '../scheduler.service.js';
import type { DashboardActionName } from '../telemetry/scheduler.events.js';
import { WORKFLOW_RUN_STATES, type WorkflowRun, type WorkflowRunState } from '../store/workflow-run.types.js';
import { toMermaid } from '../workflow/workflow.render.js';
import { searchable } from '../store/search-conditions.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardMutation } from './dashboard-actions.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { pageSize } from './dashboard-paging.js';
import { DashboardAudit } from './dashboard.audit.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { DashboardRequest, ResolvedDashboardOptions } from './dashboard.options.js';
import {
  workflowRunDetail,
  workflowRunSummary,
  type DashboardWorkflowRunDetail,
  type DashboardWorkflowRunPage,
  type DashboardWorkflowRunSummary,
} from './dashboard-workflow.views.js';

/** What a workflow action answers: the run after it. @publicApi */
export interface DashboardWorkflowChange {
  run: DashboardWorkflowRunSummary;
}

const ID = /^\d{1,19}$/;

/**
 * `GET api/workflows` (runs, filters, keyset paging), `GET api/workflows/:runId`
 * (the run's graph with its states, and its Mermaid text),
 * `POST api/workflows/:runId/{cancel,retry,pause,resume}`.
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardWorkflowsController {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly host: SchedulerHost,
    private readonly audit: DashboardAudit,
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
  ) {}

  /** Runs newest first; `state` may list several; `name` is the workflow's; `cursor` is the previous page's `nextCursor`. */
  @Get('api/workflows')
  async list(
    @Query('state') state?: string,
    @Query('name') name?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ): Promise<DashboardWorkflowRunPage> {
    for (const [argument, value] of Object.entries({ state, name, limit, cursor }))
      if (value !== undefined && typeof value !== 'string') throw new InvalidArgumentError(argument, 'must be given once, as text');
    if (name) searchable('name', name);
    const size = pageSize(limit, this.options.maxPageSize);
    const states = state ? state.split(',') : undefined;
    if (states?.some((s) => !WORKFLOW_RUN_STATES.includes(s as WorkflowRunState)))
      throw new InvalidArgumentError('state', `must be among ${WORKFLOW_RUN_STATES.join(', ')}`);
    if (cursor && !ID.test(cursor)) throw new InvalidArgumentError('cursor', 'must be a run id (digits)');
    const runs = await this.host.ports.workflows.store.listRuns({
      limit: size + 1,
      ...(states ? { states: states as WorkflowRunState[] } : {}),
      ...(name ? { workflow: name } : {}),
      ...(cursor ? { afterId: cursor } : {}),
    });
    const page = runs.slice(0, size);
    return { runs: page.map(workflowRunSummary), nextCursor: runs.length > size ? page.at(-1)!.id : null, limit: size };
  }

  @Get('api/workflows/:runId')
  async get(@Param('runId') runId: string): Promise<DashboardWorkflowRunDetail> {
    const run = await this.scheduler.workflows.getState(runId);
    const def = this.host.ports.workflows.engine.definition(run.workflow);
    return workflowRunDetail(run, def, def ? toMermaid(def, run) : null, this.options.redact);
  }

  /** Cancels a run: no step starts, running steps are aborted (no rollback). */
  @Post('api/workflows/:runId/cancel')
  @HttpCode(200)
  @DashboardMutation('workflows.cancel', 'runId')
  cancel(@Req() req: DashboardRequest, @Param('runId') runId: string): Promise<DashboardWorkflowChange> {
    return this.act(req, 'workflows.cancel', runId, () => this.scheduler.workflows.cancel(runId, { reason: 'cancelled from the dashboard' }));
  }

  /** Runs a failed run again from its failed steps. */
  @Post('api/workflows/:runId/retry')
  @HttpCode(200)
  @DashboardMutation('workflows.retry', 'runId')
  retry(@Req() req: DashboardRequest, @Param('runId') runId: string): Promise<DashboardWorkflowChange> {
    return this.act(req, 'workflows.retry', runId, () => this.scheduler.workflows.retry(runId));
  }

  @Post('api/workflows/:runId/pause')
  @HttpCode(200)
  @DashboardMutation('workflows.pause', 'runId')
  pause(@Req() req: DashboardRequest, @Param('runId') runId: string): Promise<DashboardWorkflowChange> {
    return this.act(req, 'workflows.pause', runId, () => this.scheduler.workflows.pause(runId));
  }

  @Post('api/workflows/:runId/resume')
  @HttpCode(200)
  @DashboardMutation('workflows.resume', 'runId')
  resume(@Req() req: DashboardRequest, @Param('runId') runId: string): Promise<DashboardWorkflowChange> {
    return this.act(req, 'workflows.resume', runId, () => this.scheduler.workflows.resume(runId));
  }

  /** Runs an action, audited; a run not in a state the action applies to answers 409. */
  private act(req: DashboardRequest, action: DashboardActionName, runId: string, work: () => Promise<WorkflowRun>): Promise<DashboardWorkflowChange> {
    return this.audit.run(req, action, runId, async () => {
      await this.scheduler.workflows.getState(runId);
      try {
        return { run: workflowRunSummary(await work()) };
      } catch (error) {
        if (error instanceof InvalidArgumentError && error.argument === 'runId')
          throw new ConflictException({ statusCode: 409, reason: 'conflict', message: error.message });
        throw error;
      }
    });
  }
}
