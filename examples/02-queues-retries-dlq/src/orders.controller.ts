import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { SchedulerService } from 'nestjs-scheduler';
import { randomUUID } from 'node:crypto';
import { ChargeCardWorker } from './charge-card.worker.js';
import { SendReceiptWorker } from './send-receipt.worker.js';

@Controller()
export class OrdersController {
  constructor(private readonly scheduler: SchedulerService) {}

  /** Takes the order and answers at once: the charge and the receipt run in the background. */
  @Post('orders')
  @HttpCode(202)
  async create(@Body() body: { cents: number; email: string }) {
    const orderId = `ord_${randomUUID().slice(0, 8)}`;
    // Enqueued by worker class: the arguments are type-checked against the worker's.
    const charge = await this.scheduler.enqueue(ChargeCardWorker, { orderId, cents: body.cents });
    const receipt = await this.scheduler.enqueue(SendReceiptWorker, { orderId, email: body.email });
    return { orderId, jobs: { charge: charge.id, receipt: receipt.id } };
  }

  /** Each queue's concurrency on this node and its jobs by state. */
  @Get('queues')
  async queues() {
    const stats = await this.scheduler.queueStats();
    return stats.map(({ queue, concurrency, available, running, completed, dead, discarded }) => ({
      queue,
      concurrency,
      available,
      running,
      completed,
      dead,
      discarded,
    }));
  }
}
