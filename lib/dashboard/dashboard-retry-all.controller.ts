import { Body, Controller, HttpCode, Post, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { InvalidArgumentError } from '../scheduler.errors.js';
import { SchedulerService } from '../scheduler.service.js';
import type { DeadLetterClass, DeadLetterQuery } from '../store/dead-letter-store.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardMutation } from './dashboard-actions.js';
import { BULK_BATCH, bulkTarget, type DashboardBulkResult } from './dashboard-bulk.controller.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { DashboardAudit } from './dashboard.audit.js';
import type { DashboardRequest } from './dashboard.options.js';

/** The body of `POST api/dead-letters/retry-all`. @publicApi */
export interface DashboardRetryAllRequest {
  /** The dead letters to retry: all of them without one. */
  filter?: { queue?: string; name?: string; errorClass?: DeadLetterClass };
  /** Count and sample only; change nothing. @default false */
  dryRun?: boolean;
}

const SAMPLE = 20;
const FILTER_KEYS = ['queue', 'name', 'errorClass'];

function queryOf(body: unknown): { query: DeadLetterQuery; dryRun: boolean } {
  const given = body ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) throw new InvalidArgumentError('body', 'must be a JSON object');
  const { filter = {}, dryRun = false } = given as DashboardRetryAllRequest;
  if (typeof dryRun !== 'boolean') throw new InvalidArgumentError('dryRun', 'must be a boolean');
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter))
    throw new InvalidArgumentError('filter', 'must be { queue?, name?, errorClass? }');
  for (const key of Object.keys(filter)) if (!FILTER_KEYS.includes(key)) throw new InvalidArgumentError(`filter.${key}`, 'unknown');
  // The values are checked by `scheduler.deadLetters` (a class it does not know: 400 with its message).
  return { query: filter, dryRun };
}

/**
 * `POST api/dead-letters/retry-all { filter, dryRun }`: the dead letters a
 * filter (queue, name, error class) matches back in their queues, with the
 * answer of `POST api/jobs/bulk` (count first, a sample, how many changed),
 * in rounds of {@link BULK_BATCH} store operations (`deadLetters.retryAll`,
 * oldest death first), never more than were counted. Audited once
 * (`deadLetters.retryAll` with the count changed); a dry run is not.
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardRetryAllController {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly audit: DashboardAudit,
  ) {}

  @Post('api/dead-letters/retry-all')
  @HttpCode(200)
  @DashboardMutation('deadLetters.retryAll', bulkTarget)
  async retryAll(@Req() req: DashboardRequest, @Body() body: unknown): Promise<DashboardBulkResult> {
    if ((body as DashboardRetryAllRequest | undefined)?.dryRun === true) {
      const { query } = queryOf(body);
      return { action: 'retry', dryRun: true, ...(await this.count(query)), affected: 0 };
    }
    return this.audit.run(
      req,
      'deadLetters.retryAll',
      bulkTarget(req),
      async () => {
        const { query } = queryOf(body);
        const counted = await this.count(query);
        let affected = 0;
        // Each round retries the oldest deaths; one that moves nothing (the rest hold unique keys another job has) ends it.
        while (affected < counted.count) {
          const moved = await this.scheduler.deadLetters.retryAll({ ...query, limit: Math.min(BULK_BATCH, counted.count - affected) });
          if (moved === 0) break;
          affected += moved;
        }
        return { action: 'retry' as const, dryRun: false, ...counted, affected };
      },
      (result) => result.affected,
    );
  }

  /** How many dead letters match, and the newest of them, read page by page. */
  private async count(query: DeadLetterQuery): Promise<{ count: number; sample: string[] }> {
    let count = 0;
    const sample: string[] = [];
    for (let offset = 0; ; offset += BULK_BATCH) {
      const page = await this.scheduler.deadLetters.list({ ...query, limit: BULK_BATCH, offset });
      count += page.length;
      for (const entry of page) if (sample.length < SAMPLE) sample.push(entry.id);
      if (page.length < BULK_BATCH) return { count, sample };
    }
  }
}
