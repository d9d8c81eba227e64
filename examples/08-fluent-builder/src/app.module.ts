import { Module } from '@nestjs/common';
import { SchedulerModule } from 'nestjs-scheduler';
import { InventoryJobs } from './inventory.jobs.js';
import { PingWorker } from './ping.worker.js';
import { SchedulesController } from './schedules.controller.js';

/** The memory store by default. Exported so that tests can swap it (`overrideModule`) for one on a fake clock. */
export const schedulerModule = SchedulerModule.forRoot();

@Module({
  imports: [schedulerModule],
  controllers: [SchedulesController],
  providers: [InventoryJobs, PingWorker],
})
export class AppModule {}
