import { Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Worker, type JobContext, type JobWorker } from 'nestjs-scheduler';
import type { Repository } from 'typeorm';
import { Order } from './order.entity.js';

/** The arguments of both order jobs (JSON, kept in the file). */
export interface OrderJob {
  orderId: number;
}

/** Enqueued with the order, in its transaction: runs once the order is committed, never for an order rolled back. */
@Worker({ name: 'ship-order', maxRetries: 3, backoff: '10s' })
export class ShipOrderWorker implements JobWorker<OrderJob> {
  private readonly logger = new Logger(ShipOrderWorker.name);

  constructor(@InjectRepository(Order) private readonly orders: Repository<Order>) {}

  async perform(ctx: JobContext<OrderJob>) {
    // A retry after a crash may run it again: setting the status twice does no harm.
    await this.orders.update(ctx.args.orderId, { status: 'shipped' });
    this.logger.log(`order ${ctx.args.orderId} shipped`);
    return { shipped: ctx.args.orderId };
  }
}
