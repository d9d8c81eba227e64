import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerService, Worker, type JobContext, type JobWorker } from '../lib/index.js';

/** A stand-in for a remote payments API: down for a second from its first call, then up again. */
@Injectable()
export class PaymentsApi {
  private downUntil: number | null = null;

  async charge(orderId: string): Promise<string> {
    this.downUntil ??= Date.now() + 1_000;
    if (Date.now() < this.downUntil) throw new Error(`payments API unavailable (503, simulated) for ${orderId}`);
    return `ch_${orderId}`;
  }
}

/**
 * Charges go through the `payments-api` circuit breaker (configured in
 * app.module.ts): after 3 failures in a row it opens, and the charges still
 * queued wait, without spending their attempts, until it lets a probe through.
 */
@Worker({ name: 'charge', queue: 'payments', circuitBreaker: 'payments-api', maxRetries: 3, backoff: '200ms' })
export class ChargeWorker implements JobWorker<{ orderId: string }> {
  private readonly logger = new Logger(ChargeWorker.name);

  constructor(private readonly api: PaymentsApi) {}

  async perform(ctx: JobContext<{ orderId: string }>): Promise<{ chargeId: string }> {
    const chargeId = await this.api.charge(ctx.args.orderId);
    this.logger.log(`charged order ${ctx.args.orderId} on attempt ${ctx.attempt}`);
    return { chargeId };
  }
}

/** Enqueues 5 charges at boot and logs what the breaker does with them. */
@Injectable()
export class PaymentsDemo implements OnApplicationBootstrap {
  private readonly logger = new Logger('CircuitBreaker');

  constructor(private readonly scheduler: SchedulerService) {}

  async onApplicationBootstrap(): Promise<void> {
    const s = this.scheduler;
    s.on('circuit:open', ({ name, breaker }) => this.logger.warn(`[event] ${name} opened: charges wait until ${breaker.nextProbeAt?.toISOString()}`));
    s.on('circuit:reject', ({ job, until }) => this.logger.log(`[event] charge ${job.id} held until ${until.toISOString()} (attempt not spent)`));
    s.on('circuit:halfOpen', ({ name }) => this.logger.log(`[event] ${name} half-open: one probe goes through`));
    s.on('circuit:close', ({ name }) => this.logger.log(`[event] ${name} closed: the held charges run now`));
    this.logger.log('enqueueing 5 charges through the payments-api circuit breaker');
    await s.enqueueMany(
      'charge',
      [1, 2, 3, 4, 5].map((n) => ({ orderId: `order-${n}` })),
    );
  }
}
