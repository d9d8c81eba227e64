import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SchedulerModule } from 'nestjs-scheduler';
import { SchedulerHealthIndicator } from 'nestjs-scheduler/terminus';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { OrdersJobs } from './orders.jobs.js';

/** The memory store: nothing to install. Exported so that tests can swap it (`overrideModule`). */
export const schedulerModule = SchedulerModule.forRoot();

@Module({
  imports: [schedulerModule, TerminusModule],
  controllers: [HealthController, MetricsController],
  providers: [OrdersJobs, SchedulerHealthIndicator],
})
export class AppModule {}
