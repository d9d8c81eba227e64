import { Logger } from '@nestjs/common';
import { Worker, type JobContext, type JobWorker } from '../lib/index.js';

/** The job's arguments: any JSON. (A `type`, not an `interface`, so it is assignable to JSON.) */
export type EmailArgs = { to: string; subject: string };

/**
 * A class-based job (`@Worker` also makes the class injectable). It runs only
 * what is enqueued for it: `scheduler.enqueue('send-email', { to, subject })`.
 *
 * A failed attempt is retried up to `maxRetries` times, here 500 ms apart;
 * after the last one the job becomes a dead letter (`scheduler.deadLetters`).
 */
@Worker({ name: 'send-email', queue: 'emails', maxRetries: 3, backoff: '500ms' })
export class EmailWorker implements JobWorker<EmailArgs> {
  private readonly logger = new Logger(EmailWorker.name);

  async perform(ctx: JobContext<EmailArgs>): Promise<{ messageId: string }> {
    const { to, subject } = ctx.args;
    // Deterministic "flaky SMTP server": attempt 1 fails, attempt 2 succeeds, so retries are visible.
    if (ctx.attempt === 1) throw new Error(`SMTP server busy (simulated) for ${to}`);
    this.logger.log(`sent "${subject}" to ${to} on attempt ${ctx.attempt}/${ctx.maxAttempts}`);
    return { messageId: `msg-${ctx.id}` };
  }
}
