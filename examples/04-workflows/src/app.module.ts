import { Module } from '@nestjs/common';
import { SchedulerModule } from 'nestjs-scheduler';
import { OrderWorkflow } from './order.workflow.js';
import { OrderService } from './order.service.js';
import { WorkflowsController } from './workflows.controller.js';

/** The memory store: runs live in this process (PostgreSQL keeps them across restarts). Exported so that tests can swap it (`overrideModule`). */
export const schedulerModule = SchedulerModule.forRoot();

@Module({
  imports: [schedulerModule],
  controllers: [WorkflowsController],
  providers: [OrderWorkflow, OrderService],
})
export class AppModule {}
