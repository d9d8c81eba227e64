import { Module } from '@nestjs/common';
import { SchedulerModule } from 'nestjs-scheduler';
import { PaymentWebhooks } from './payment-webhooks.service.js';
import { PaymentsController } from './payments.controller.js';
import { PaymentsJobs } from './payments.jobs.js';

/** The memory store by default. Exported so that tests can swap it (`overrideModule`) for one on a fake clock. */
export const schedulerModule = SchedulerModule.forRoot();

@Module({
  imports: [schedulerModule],
  controllers: [PaymentsController],
  providers: [PaymentsJobs, PaymentWebhooks],
})
export class AppModule {}
