import { Logger } from '@nestjs/common';
import { Worker, type JobContext, type JobWorker } from '../lib/index.js';

/** The job's arguments. */
export type InvoiceArgs = { invoice: string; cents: number };

/**
 * A job on a rate-limited queue: the `billing` queue may start 2 invoices per
 * 2 s (see `rateLimits` in app.module.ts), as a payment provider's API would
 * allow. Invoices over the limit wait for their token, in order, without
 * spending an attempt; each wait is announced once by `job:skip` (reason
 * `rate_limited`).
 */
@Worker({ name: 'invoice', queue: 'billing' })
export class InvoiceWorker implements JobWorker<InvoiceArgs> {
  private readonly logger = new Logger(InvoiceWorker.name);

  async perform(ctx: JobContext<InvoiceArgs>): Promise<void> {
    this.logger.log(`charged ${ctx.args.cents / 100} for invoice ${ctx.args.invoice} (attempt ${ctx.attempt})`);
  }
}
