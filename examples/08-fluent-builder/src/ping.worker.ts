import { Logger } from '@nestjs/common';
import { Worker, type JobContext, type JobWorker } from 'nestjs-scheduler';

export type PingArgs = { url: string };

/** The handler of the health checks added at runtime: a stored schedule names it, it holds no code. */
@Worker({ name: 'ping' })
export class PingWorker implements JobWorker<PingArgs> {
  private readonly logger = new Logger(PingWorker.name);

  perform(ctx: JobContext<PingArgs>) {
    // A real check would `fetch(ctx.args.url, { signal: ctx.signal })`.
    this.logger.log(`${ctx.schedule}: pinged ${ctx.args.url} for ${ctx.scheduledAt.toISOString()}`);
    return { url: ctx.args.url };
  }
}
