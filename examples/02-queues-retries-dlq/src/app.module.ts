import { Module } from '@nestjs/common';
import { SchedulerModule, type SchedulerModuleOptions } from 'nestjs-scheduler';
import { ChargeCardWorker, PaymentGateway } from './charge-card.worker.js';
import { DeadLetterAlerts } from './dead-letter.alerts.js';
import { DeadLettersController } from './dead-letters.controller.js';
import { MailRelayController } from './mail-relay.controller.js';
import { OrdersController } from './orders.controller.js';
import { MailRelay, SendReceiptWorker } from './send-receipt.worker.js';

/** Exported so that the test can build the same module on a fake clock. */
export const schedulerOptions: SchedulerModuleOptions = {
  // queue → how many of its jobs run at once on this node: the payment gateway takes
  // one call at a time from us, the mail relay many.
  queues: { payments: 1, emails: 5 },
  // Called once per dead job (in the whole cluster, on a shared store).
  deadLetters: { onDeadLetter: DeadLetterAlerts },
};

/** The memory store: nothing to install, nothing kept after a restart. Exported so that tests can swap it (`overrideModule`). */
export const schedulerModule = SchedulerModule.forRoot(schedulerOptions);

@Module({
  imports: [schedulerModule],
  controllers: [OrdersController, DeadLettersController, MailRelayController],
  providers: [PaymentGateway, ChargeCardWorker, MailRelay, SendReceiptWorker, DeadLetterAlerts],
})
export class AppModule {}
