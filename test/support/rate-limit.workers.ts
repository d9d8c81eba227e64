import { Injectable } from '@nestjs/common';
import { Worker, type JobContext, type JobWorker } from '../../lib/index.js';

/** Records the `n` of each job it runs. */
class Recorder implements JobWorker<{ n: number }> {
  readonly done: number[] = [];
  async perform(ctx: JobContext<{ n: number }>): Promise<void> {
    this.done.push(ctx.args.n);
  }
}

/**
 * The workers of the rate-limit e2e tests: `charge` on the `billing` queue,
 * `email` with its own limit of 2 per `emailPer`, and an unlimited `report`.
 */
export function rateLimitWorkers(emailPer: string) {
  @Injectable()
  @Worker({ name: 'charge', queue: 'billing' })
  class Charge extends Recorder {}

  @Injectable()
  @Worker({ name: 'email', rateLimit: { limit: 2, per: emailPer } })
  class Email extends Recorder {}

  @Injectable()
  @Worker({ name: 'report' })
  class Report extends Recorder {}

  return { Charge, Email, Report };
}
