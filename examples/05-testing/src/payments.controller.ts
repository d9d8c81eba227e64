import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { SchedulerService } from 'nestjs-scheduler';
import { randomUUID } from 'node:crypto';
import { PaymentWebhooks, type PaymentStatus } from './payment-webhooks.service.js';

@Controller()
export class PaymentsController {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly webhooks: PaymentWebhooks,
  ) {}

  /** Charges in the background and waits (30 s at most) for the provider to confirm. */
  @Post('payments')
  @HttpCode(202)
  async create(@Body() body: { cents: number }) {
    const paymentId = `pay_${randomUUID().slice(0, 8)}`;
    const charge = await this.scheduler.enqueue('charge', { paymentId, cents: body.cents });
    const confirmation = await this.scheduler.enqueue('await-confirmation', { paymentId });
    return { paymentId, jobs: { charge: charge.id, confirmation: confirmation.id } };
  }

  /** The provider's webhook. */
  @Post('webhooks/payments/:id')
  @HttpCode(200)
  confirm(@Param('id') id: string, @Body() body: { status: PaymentStatus }) {
    return { delivered: this.webhooks.deliver(id, body.status) };
  }
}
