import { BadRequestException, Body, Controller, Get, Post } from '@nestjs/common';
import { SchedulerService } from 'nestjs-scheduler';
import { OrdersService } from './orders.service.js';

@Controller()
export class OrdersController {
  constructor(
    private readonly orders: OrdersService,
    private readonly scheduler: SchedulerService,
  ) {}

  /** `{ "sku": "notebook", "quantity": 2 }`: 201 with the order, or 409 when the stock is short (nothing kept). */
  @Post('orders')
  place(@Body() body: { sku?: unknown; quantity?: unknown }) {
    const { sku, quantity } = body;
    if (typeof sku !== 'string' || !Number.isInteger(quantity) || (quantity as number) < 1) {
      throw new BadRequestException('expected { "sku": string, "quantity": integer >= 1 }');
    }
    return this.orders.place(sku, quantity as number);
  }

  @Get('orders')
  list() {
    return this.orders.list();
  }

  @Get('stock')
  stock() {
    return this.orders.stock();
  }

  /** The default queue's counts, read from the SQLite file: `scheduled` holds the review requests still to come. */
  @Get('jobs')
  async jobs() {
    const { available, scheduled, running, completed, dead } = await this.scheduler.queueStats('default');
    return { available, scheduled, running, completed, dead };
  }
}
