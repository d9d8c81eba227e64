import { Injectable, Logger } from '@nestjs/common';
import { DiscardJobError, Worker, type JobContext, type JobWorker } from 'nestjs-scheduler';

export type ChargeArgs = { orderId: string; cents: number };

/** A stand-in for a payment provider: it times out on the first two calls for each order. */
@Injectable()
export class PaymentGateway {
  private readonly calls = new Map<string, number>();

  charge(orderId: string, cents: number): string {
    const call = (this.calls.get(orderId) ?? 0) + 1;
    this.calls.set(orderId, call);
    if (call <= 2) throw new Error(`gateway timeout charging ${orderId} (simulated, call ${call})`);
    return `ch_${orderId}_${cents}`;
  }
}

/**
 * Runs on the `payments` queue (one at a time). A failed attempt is retried
 * 10 s, then 20 s, then 40 s later (no jitter, so the waits are exact); an
 * order with nothing to charge is discarded at once, never retried.
 */
@Worker({ name: 'charge-card', queue: 'payments', maxRetries: 3, backoff: { type: 'exponential', delay: '10s', factor: 2 } })
export class ChargeCardWorker implements JobWorker<ChargeArgs> {
  private readonly logger = new Logger(ChargeCardWorker.name);

  constructor(private readonly gateway: PaymentGateway) {}

  perform(ctx: JobContext<ChargeArgs>): { chargeId: string } {
    const { orderId, cents } = ctx.args;
    // Retrying cannot fix this one: DiscardJobError ends the job (state `discarded`), no dead letter.
    if (cents <= 0) throw new DiscardJobError(`order ${orderId} has nothing to charge`);
    const chargeId = this.gateway.charge(orderId, cents);
    this.logger.log(`charged ${orderId} on attempt ${ctx.attempt}/${ctx.maxAttempts}: ${chargeId}`);
    return { chargeId }; // stored as the job's result
  }
}
