import { Module } from '@nestjs/common';
import { SchedulerModule, type SchedulerModuleOptions } from 'nestjs-scheduler';
import { AccountsController } from './accounts.controller.js';
import { AccountsService } from './accounts.service.js';
import { SyncAccountWorker } from './sync-account.worker.js';
import { SyncJobs } from './sync.jobs.js';

/**
 * Jobs in Redis under one key prefix: every node with the same server and
 * prefix shares them (one leader plans `sync-all`); another prefix is another
 * scheduler on the same server.
 */
export const schedulerOptions = (keyPrefix = 'accounts'): SchedulerModuleOptions => ({
  store: { type: 'redis', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix },
  queues: { default: 1, sync: 2 },
});

/** Exported so that tests can swap it (`overrideModule`), e.g. for a key prefix of their own. */
export const schedulerModule = SchedulerModule.forRoot(schedulerOptions());

@Module({
  imports: [schedulerModule],
  controllers: [AccountsController],
  providers: [AccountsService, SyncAccountWorker, SyncJobs],
})
export class AppModule {}
