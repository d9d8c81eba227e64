import { Step, Workflow, type StepContext } from 'nestjs-scheduler';
import { OrderService } from './order.service.js';

/** The carrier refuses some destinations: the last step fails, and the run is compensated. */
export class CarrierRefusedError extends Error {
  override readonly name = 'CarrierRefusedError';
}

/**
 * An order, as a DAG of steps; each step is a job (its own retries and timeout), and the object a
 * step returns is merged into the run's context, which the next steps read.
 *
 *   validate ── reserveStock ─┬─ chargeCard ──────────────┬─ ship
 *                             └─ giftWrap (if giftWrap) ──┘
 *
 * When a step fails for good, the run fails and the completed steps are compensated by their
 * `rollback`, newest first: refundCard, then releaseStock.
 */
@Workflow({ name: 'order' })
export class OrderWorkflow {
  constructor(private readonly orders: OrderService) {}

  @Step()
  validate(ctx: StepContext) {
    const orderId = String(ctx.context.orderId);
    this.orders.record(`validate ${orderId}`);
    return { total: 42 };
  }

  @Step({ after: 'validate', rollback: 'releaseStock' })
  reserveStock(ctx: StepContext) {
    const reservationId = `res-${String(ctx.context.orderId)}`;
    this.orders.record(`reserve ${reservationId}`);
    return { reservationId };
  }

  /** After the stock is held; runs beside giftWrap. A declined card is not worth retrying. */
  @Step({ after: 'reserveStock', rollback: 'refundCard', maxRetries: 0 })
  chargeCard(ctx: StepContext) {
    const chargeId = `ch-${String(ctx.context.orderId)}`;
    this.orders.record(`charge ${chargeId} for ${String(ctx.context.total)}`);
    return { chargeId };
  }

  /** Only when the customer asked for it; otherwise skipped, which counts as finished for `ship`. */
  @Step({ after: 'reserveStock', when: (context) => context.giftWrap === true })
  giftWrap(ctx: StepContext) {
    this.orders.record(`gift-wrap ${String(ctx.context.orderId)}`);
    return { wrapped: true };
  }

  @Step({ after: ['chargeCard', 'giftWrap'], maxRetries: 0 })
  ship(ctx: StepContext) {
    if (ctx.context.country === 'AQ') throw new CarrierRefusedError('no carrier delivers to Antarctica');
    const trackingNumber = `trk-${String(ctx.context.orderId)}`;
    this.orders.record(`ship ${trackingNumber}`);
    return { trackingNumber };
  }

  /** Rollbacks: plain methods (not steps), each run once for a completed step of a failed run. */
  releaseStock(ctx: StepContext) {
    this.orders.record(`release ${String(ctx.context.reservationId)}`);
  }

  refundCard(ctx: StepContext) {
    this.orders.record(`refund ${String(ctx.context.chargeId)}`);
  }
}
