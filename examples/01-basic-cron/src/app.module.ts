import { Module } from '@nestjs/common';
import { SchedulerModule } from 'nestjs-scheduler';
import { ReportsJobs } from './reports.jobs.js';
import { SchedulesController } from './schedules.controller.js';

/** The memory store by default: nothing to install, nothing kept after a restart. Exported so that tests can swap it (`overrideModule`). */
export const schedulerModule = SchedulerModule.forRoot();

@Module({
  imports: [schedulerModule],
  controllers: [SchedulesController],
  providers: [ReportsJobs],
})
export class AppModule {}
