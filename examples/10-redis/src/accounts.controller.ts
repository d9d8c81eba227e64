import { Controller, Get, NotFoundException, Param, ParseIntPipe, Post } from '@nestjs/common';
import { SchedulerService } from 'nestjs-scheduler';
import { AccountsService } from './accounts.service.js';
import { SyncAccountWorker } from './sync-account.worker.js';

@Controller()
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly scheduler: SchedulerService,
  ) {}

  @Get('accounts')
  list() {
    return this.accounts.list();
  }

  /** Asks for a sync now: a new job, or the one already queued or run in the last 10 minutes (`duplicate: true`). */
  @Post('accounts/:id/sync')
  async sync(@Param('id', ParseIntPipe) id: number) {
    if (!this.accounts.has(id)) throw new NotFoundException(`no account ${id}`);
    const job = await this.scheduler.enqueue(SyncAccountWorker, { accountId: id });
    return { jobId: job.id, duplicate: job.duplicate };
  }

  /** The `sync` queue's counts and the last hourly run, read from Redis (every node sees the same). */
  @Get('sync')
  async status() {
    const [queue, syncAll] = await Promise.all([this.scheduler.queueStats('sync'), this.scheduler.status('sync-all')]);
    const { available, scheduled, running, completed, dead } = queue;
    return { queue: { available, scheduled, running, completed, dead }, syncAll: { lastRunAt: syncAll.lastRunAt, nextRunAt: syncAll.nextRunAt } };
  }
}
