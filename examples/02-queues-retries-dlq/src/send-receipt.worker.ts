import { Injectable, Logger } from '@nestjs/common';
import { Worker, type JobContext, type JobWorker } from 'nestjs-scheduler';

export type ReceiptArgs = { orderId: string; email: string };

/** A stand-in for an SMTP relay. The app starts during its outage; `POST /mail-relay/up` ends it. */
@Injectable()
export class MailRelay {
  up = false;
  readonly sent: string[] = [];

  send(to: string, subject: string): string {
    if (!this.up) throw new Error('mail relay refused the connection (simulated outage)');
    this.sent.push(`${to}: ${subject}`);
    return `msg-${this.sent.length}`;
  }
}

/**
 * Runs on the `emails` queue (five at a time). Two retries, 5 s apart: a
 * receipt caught by the relay's outage dies after its third attempt and waits
 * in the dead letters until someone retries it, once the relay is back.
 */
@Worker({ name: 'send-receipt', queue: 'emails', maxRetries: 2, backoff: '5s' })
export class SendReceiptWorker implements JobWorker<ReceiptArgs> {
  private readonly logger = new Logger(SendReceiptWorker.name);

  constructor(private readonly relay: MailRelay) {}

  perform(ctx: JobContext<ReceiptArgs>): { messageId: string } {
    const messageId = this.relay.send(ctx.args.email, `Your receipt for ${ctx.args.orderId}`);
    this.logger.log(`receipt for ${ctx.args.orderId} sent to ${ctx.args.email} on attempt ${ctx.attempt}`);
    return { messageId };
  }
}
