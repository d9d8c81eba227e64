import { Body, Controller, HttpCode, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { DuplicateJobError, InvalidArgumentError, JobNotFoundError } from '../scheduler.errors.js';
import { SchedulerHost } from '../scheduler.host.js';
import { SchedulerService } from '../scheduler.service.js';
import type { Job, JobFilter, JobState } from '../store/job.types.js';
import type { DashboardActionName } from '../telemetry/scheduler.events.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardMutation } from './dashboard-actions.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { DashboardAudit } from './dashboard.audit.js';
import type { DashboardRequest } from './dashboard.options.js';

/** What `POST api/jobs/bulk` does. @publicApi */
export type DashboardBulkAction = 'retry' | 'cancel' | 'delete';

/** The body of `POST api/jobs/bulk`: an action, and the jobs by id or by filter (one of the two). @publicApi */
export interface DashboardBulkRequest {
  action: DashboardBulkAction;
  /** At most 1,000 job ids. */
  ids?: string[];
  /** Jobs matching it (`state` a state or a list; `name` the handler or schedule). */
  filter?: { state?: JobState | JobState[]; queue?: string; name?: string };
  /** Count and sample only; change nothing. @default false */
  dryRun?: boolean;
}

/** What `POST api/jobs/bulk` answers. @publicApi */
export interface DashboardBulkResult {
  action: DashboardBulkAction;
  dryRun: boolean;
  /** The jobs the action applies to when it was asked (only jobs it can act on: dead ones for a retry, waiting or running ones for a cancel, finished ones for a delete). */
  count: number;
  /** The first of them (at most 20 ids). */
  sample: string[];
  /** How many it changed (0 for a dry run): fewer than `count` when some changed meanwhile. */
  affected: number;
}

const ACTIONS: Readonly<Record<DashboardBulkAction, DashboardActionName>> = {
  retry: 'jobs.bulkRetry',
  cancel: 'jobs.bulkCancel',
  delete: 'jobs.bulkDelete',
};
/** The states each action acts on. */
const ELIGIBLE: Readonly<Record<DashboardBulkAction, readonly JobState[]>> = {
  retry: ['dead'],
  cancel: ['available', 'running'],
  delete: ['completed', 'dead', 'discarded', 'cancelled'],
};
const ALL_STATES: readonly JobState[] = ['available', 'running', 'completed', 'dead', 'discarded', 'cancelled'];
/** The most ids one request may name. @internal */
export const BULK_MAX_IDS = 1_000;
/** Jobs read and changed per store call. @internal */
export const BULK_BATCH = 200;
const SAMPLE = 20;
const ID = /^\d{1,19}$/;

function bodyOf(req: object): Partial<DashboardBulkRequest> {
  const body = (req as { body?: unknown }).body;
  return body !== null && typeof body === 'object' ? (body as Partial<DashboardBulkRequest>) : {};
}

/** The audited action of a bulk request, `null` for a body without a valid one. @internal */
export function bulkAction(req: object): DashboardActionName | null {
  const action = bodyOf(req).action;
  return typeof action === 'string' && Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : null;
}

/** The audited target of a bulk request: `ids:1,2,…` or `filter:state=dead,queue=billing`. @internal */
export function bulkTarget(req: object): string {
  const { ids, filter } = bodyOf(req);
  if (Array.isArray(ids)) return `ids:${ids.slice(0, SAMPLE).map(String).join(',')}${ids.length > SAMPLE ? `,… (${ids.length})` : ''}`;
  if (filter && typeof filter === 'object') {
    const parts = Object.entries(filter).map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('|') : String(value)}`);
    return `filter:${parts.join(',')}`;
  }
  return 'filter:';
}

/** The selection of a bulk request, checked. */
type Selection = { ids: string[] } | { filter: JobFilter };

function selection(body: Partial<DashboardBulkRequest>, action: DashboardBulkAction): Selection {
  const { ids, filter } = body;
  if ((ids === undefined) === (filter === undefined)) throw new InvalidArgumentError('ids', 'give either ids or filter');
  if (ids !== undefined) {
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > BULK_MAX_IDS || ids.some((id) => typeof id !== 'string' || !ID.test(id)))
      throw new InvalidArgumentError('ids', `must be from 1 to ${BULK_MAX_IDS} job ids (digits)`);
    return { ids: [...new Set(ids)] };
  }
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) throw new InvalidArgumentError('filter', 'must be { state?, queue?, name? }');
  for (const key of Object.keys(filter)) if (!['state', 'queue', 'name'].includes(key)) throw new InvalidArgumentError(`filter.${key}`, 'unknown');
  const asked = filter.state === undefined ? undefined : Array.isArray(filter.state) ? filter.state : [filter.state];
  if (asked?.some((state) => !ALL_STATES.includes(state))) throw new InvalidArgumentError('filter.state', `must be among ${ALL_STATES.join(', ')}`);
  const states = ELIGIBLE[action].filter((state) => asked === undefined || asked.includes(state));
  if (states.length === 0) throw new InvalidArgumentError('filter.state', `a bulk ${action} acts on ${ELIGIBLE[action].join(', ')} jobs only`);
  for (const key of ['queue', 'name'] as const) {
    if (filter[key] !== undefined && (typeof filter[key] !== 'string' || filter[key] === '')) throw new InvalidArgumentError(`filter.${key}`, 'must be a name');
  }
  return { filter: { states, ...(filter.queue ? { queue: filter.queue } : {}), ...(filter.name ? { nameOrSchedule: filter.name } : {}) } };
}

/**
 * `POST api/jobs/bulk`: retry, cancel or delete jobs by ids or by filter,
 * counted first, in batches of {@link BULK_BATCH}, audited once with the
 * number changed (a bad request too, as an error); `dryRun` counts and
 * samples only (not audited).
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardBulkController {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly host: SchedulerHost,
    private readonly audit: DashboardAudit,
  ) {}

  @Post('api/jobs/bulk')
  @HttpCode(200)
  @DashboardMutation(bulkAction, bulkTarget)
  async bulk(@Req() req: DashboardRequest, @Body() body: Partial<DashboardBulkRequest>): Promise<DashboardBulkResult> {
    const action = body.action as DashboardBulkAction;
    if (body.dryRun === true) {
      const { count, first } = await this.count(selection(body, action), action);
      return { action, dryRun: true, count, sample: first.map((job) => job.id), affected: 0 };
    }
    return this.audit.run(
      req,
      ACTIONS[action],
      bulkTarget(req),
      async () => {
        if (body.dryRun !== undefined && body.dryRun !== false) throw new InvalidArgumentError('dryRun', 'must be a boolean');
        const chosen = selection(body, action);
        const { count, first } = await this.count(chosen, action);
        const affected = await this.apply(chosen, action, count);
        return { action, dryRun: false, count, sample: first.map((job) => job.id), affected };
      },
      (result) => result.affected,
    );
  }

  /** How many jobs the action applies to, and the first of them. */
  private async count(chosen: Selection, action: DashboardBulkAction): Promise<{ count: number; first: Job[] }> {
    if ('ids' in chosen) {
      const jobs = await this.eligibleOf(chosen.ids, action);
      return { count: jobs.length, first: jobs.slice(0, SAMPLE) };
    }
    const store = this.host.ports.service.store;
    const [count, first] = await Promise.all([store.count(chosen.filter), store.list({ ...chosen.filter, limit: SAMPLE })]);
    return { count, first };
  }

  /** The jobs of `ids` in a state the action acts on, in the order given. */
  private async eligibleOf(ids: readonly string[], action: DashboardBulkAction): Promise<Job[]> {
    const found: Job[] = [];
    for (let i = 0; i < ids.length; i += BULK_BATCH) {
      const jobs = await Promise.all(ids.slice(i, i + BULK_BATCH).map((id) => this.scheduler.findJob(id)));
      for (const job of jobs) if (job && ELIGIBLE[action].includes(job.state)) found.push(job);
    }
    return found;
  }

  /** Applies the action batch by batch, to at most `count` jobs of a filter (those counted, not ones that came since); resolves to how many changed. */
  private async apply(chosen: Selection, action: DashboardBulkAction, count: number): Promise<number> {
    let affected = 0;
    if ('ids' in chosen) {
      // Each batch read again: a job that changed since it was counted is left alone.
      for (let i = 0; i < chosen.ids.length; i += BULK_BATCH)
        affected += await this.act(await this.eligibleOf(chosen.ids.slice(i, i + BULK_BATCH), action), action);
      return affected;
    }
    const store = this.host.ports.service.store;
    let seen = 0;
    let afterId: string | undefined;
    while (seen < count) {
      const batch = await store.list({ ...chosen.filter, limit: Math.min(BULK_BATCH, count - seen), ...(afterId ? { afterId } : {}) });
      if (batch.length === 0) break;
      seen += batch.length;
      afterId = batch.at(-1)!.id;
      affected += await this.act(batch, action);
    }
    return affected;
  }

  private async act(jobs: readonly Job[], action: DashboardBulkAction): Promise<number> {
    if (jobs.length === 0) return 0;
    // Only finished jobs, checked again as they are deleted: one retried since it was listed stays.
    if (action === 'delete')
      return this.host.ports.service.store.delete(
        jobs.map((job) => job.id),
        { states: ELIGIBLE.delete },
      );
    let changed = 0;
    for (const job of jobs) {
      try {
        if (action === 'retry') {
          await this.scheduler.deadLetters.retry(job.id);
          changed++;
        } else {
          changed += await this.scheduler.cancelJob(job.id, { reason: 'cancelled from the dashboard' });
        }
      } catch (error) {
        // Changed meanwhile (retried, deleted), or its unique key taken: not counted.
        if (!(error instanceof JobNotFoundError || error instanceof DuplicateJobError)) throw error;
      }
    }
    return changed;
  }
}
