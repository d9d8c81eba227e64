import { Injectable, Logger } from '@nestjs/common';
import { Scheduled, SchedulerService } from 'nestjs-scheduler';
import { AccountsService } from './accounts.service.js';
import { SyncAccountWorker } from './sync-account.worker.js';

@Injectable()
export class SyncJobs {
  private readonly logger = new Logger(SyncJobs.name);

  constructor(
    private readonly scheduler: SchedulerService,
    private readonly accounts: AccountsService,
  ) {}

  /** Every hour, on the leader only: one sync job per account, except those synced in the last 10 minutes. */
  @Scheduled({ cron: '0 * * * *', name: 'sync-all' })
  async syncAll() {
    const jobs = await this.scheduler.enqueueMany(
      SyncAccountWorker,
      this.accounts.ids().map((accountId) => ({ accountId })),
    );
    const duplicates = jobs.filter((job) => job.duplicate).length;
    this.logger.log(`sync-all: ${jobs.length - duplicates} enqueued, ${duplicates} synced recently`);
    return { enqueued: jobs.length - duplicates, duplicates }; // stored as the run's result
  }
}
