import { Module } from '@nestjs/common';
import { SchedulerModule, type SchedulerModuleOptions } from 'nestjs-scheduler';
import { ClusterController } from './cluster.controller.js';
import { ClusterJobs, RenderThumbnailWorker } from './cluster.jobs.js';
import { nodeName } from './node-name.js';

/**
 * Every node of the app gets the same options: the same database and schema
 * make them one cluster (one leader, shared jobs). The tables are created at
 * the first start (migrations run once, under a lock).
 */
export const schedulerOptions = (): SchedulerModuleOptions => ({
  store: { type: 'postgres', url: process.env.DATABASE_URL, schema: process.env.DATABASE_SCHEMA ?? 'public' },
  // 2 jobs at a time on each node, claimed only for free slots (no prefetch): long jobs spread over the nodes.
  queues: { default: { concurrency: 2, prefetch: 0 } },
  nodeName,
});

/** Exported so that tests can swap it (`overrideModule`). */
export const schedulerModule = SchedulerModule.forRoot(schedulerOptions());

@Module({
  imports: [schedulerModule],
  controllers: [ClusterController],
  providers: [ClusterJobs, RenderThumbnailWorker],
})
export class AppModule {}
