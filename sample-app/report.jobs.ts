import { Injectable, Logger } from '@nestjs/common';
import { Scheduled, type JobContext } from '../lib/index.js';

/**
 * Schedules declared on methods. Each job is named `ClassName.method` unless
 * you give it a `name`, and runs on the `default` queue unless you give a `queue`.
 */
@Injectable()
export class ReportJobs {
  private readonly logger = new Logger(ReportJobs.name);

  /** Six-field cron (seconds first): every 2 seconds, read in Etc/UTC unless `zone` is set. */
  @Scheduled({ cron: '*/2 * * * * *' })
  collectMetrics(ctx: JobContext): void {
    this.logger.log(`collectMetrics: tick ${ctx.scheduledAt.toISOString()} (job ${ctx.id})`);
  }

  /** An interval: ticks at whole multiples of 3 s since the Unix epoch. */
  @Scheduled({ every: '3s', unique: true }) // unique: no new run while one is queued or running
  async syncInventory(ctx: JobContext): Promise<{ items: number }> {
    await new Promise((resolve) => setTimeout(resolve, 200)); // pretend to call an API
    this.logger.log(`syncInventory: tick ${ctx.scheduledAt.toISOString()} done`);
    return { items: 42 }; // a return value is stored as the job's result
  }

  /** `@reboot`: once on this node, as the app starts (warm-up work). */
  @Scheduled({ cron: '@reboot' })
  warmCaches(): void {
    this.logger.log('warmCaches: ran once at start-up');
  }
}
