import { Logger } from '@nestjs/common';
import { Worker, type JobContext, type JobWorker } from 'nestjs-scheduler';
import { AccountsService } from './accounts.service.js';

export interface SyncAccountArgs {
  accountId: number;
}

/**
 * One account's sync, on the `sync` queue (2 at a time on each node).
 * Unique per account for 10 minutes: asking again while one is queued,
 * running, or completed less than 10 minutes ago returns that job
 * (`duplicate: true`) instead of inserting another. Redis checks the key in
 * the insert's script, so two nodes asking at once insert one job.
 */
@Worker({
  name: 'sync-account',
  queue: 'sync',
  maxRetries: 5,
  backoff: '30s',
  unique: { by: { args: ['accountId'] }, states: ['scheduled', 'available', 'running', 'completed'], period: '10m' },
})
export class SyncAccountWorker implements JobWorker<SyncAccountArgs> {
  private readonly logger = new Logger(SyncAccountWorker.name);

  constructor(private readonly accounts: AccountsService) {}

  perform(ctx: JobContext<SyncAccountArgs>) {
    // An app would call the partner's API here, passing ctx.signal on.
    this.accounts.recordSync(ctx.args.accountId, ctx.scheduledAt);
    this.logger.log(`account ${ctx.args.accountId} synced`);
    return { accountId: ctx.args.accountId };
  }
}
