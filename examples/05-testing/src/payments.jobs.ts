import { Injectable, Logger } from '@nestjs/common';
import { DiscardJobError, Scheduled, type JobContext } from 'nestjs-scheduler';
import { PaymentWebhooks } from './payment-webhooks.service.js';

export type ChargeArgs = { paymentId: string; cents: number };

@Injectable()
export class PaymentsJobs {
  private readonly logger = new Logger(PaymentsJobs.name);

  constructor(private readonly webhooks: PaymentWebhooks) {}

  /** Every night at 02:30 in Paris: on the spring-forward night 02:30 does not exist and it runs at 03:30; on the fall-back night, once. */
  @Scheduled({ cron: '30 2 * * *', zone: 'Europe/Paris', name: 'nightly-settlement' })
  settle(ctx: JobContext) {
    const day = ctx.scheduledAt.toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' }); // YYYY-MM-DD in Paris
    this.logger.log(`settled the payments of the day before ${day}`);
    return { day };
  }

  /** No schedule: runs what is enqueued. Retried twice, a minute apart; nothing to charge ends it at once. */
  @Scheduled({ name: 'charge', maxRetries: 2, backoff: '1m' })
  charge(ctx: JobContext<ChargeArgs>) {
    if (ctx.args.cents <= 0) throw new DiscardJobError(`payment ${ctx.args.paymentId} has nothing to charge`);
    this.logger.log(`charging ${ctx.args.cents} cents for ${ctx.args.paymentId}`);
    return { paymentId: ctx.args.paymentId, charged: ctx.args.cents };
  }

  /**
   * Waits for the provider's webhook, at most 30 s; no retry (the provider
   * sends it once). The wait honours `ctx.signal`, so the timeout ends it.
   */
  @Scheduled({ name: 'await-confirmation', timeout: '30s', maxRetries: 0 })
  async awaitConfirmation(ctx: JobContext<{ paymentId: string }>) {
    const status = await this.webhooks.waitFor(ctx.args.paymentId, ctx.signal);
    this.logger.log(`payment ${ctx.args.paymentId} ${status}`);
    return { paymentId: ctx.args.paymentId, status };
  }
}
