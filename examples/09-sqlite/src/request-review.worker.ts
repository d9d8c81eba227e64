import { Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Worker, type JobContext, type JobWorker } from 'nestjs-scheduler';
import type { Repository } from 'typeorm';
import { Order } from './order.entity.js';
import type { OrderJob } from './ship-order.worker.js';

/** Enqueued with the order, due 3 days later: it waits in the SQLite file, through restarts. */
@Worker({ name: 'request-review', maxRetries: 3, backoff: '1m' })
export class RequestReviewWorker implements JobWorker<OrderJob> {
  private readonly logger = new Logger(RequestReviewWorker.name);

  constructor(@InjectRepository(Order) private readonly orders: Repository<Order>) {}

  async perform(ctx: JobContext<OrderJob>) {
    await this.orders.update(ctx.args.orderId, { reviewRequestedAt: ctx.scheduledAt });
    this.logger.log(`review requested for order ${ctx.args.orderId}`);
  }
}
