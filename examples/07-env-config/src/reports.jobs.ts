import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Scheduled, type JobContext } from 'nestjs-scheduler';

@Injectable()
export class ReportsJobs {
  private readonly logger = new Logger(ReportsJobs.name);

  constructor(private readonly config: ConfigService) {}

  /** On the `reports` queue, which the code declares; its retries and timeout come from the module's defaults. */
  @Scheduled({ every: '1m', name: 'sales-report', queue: 'reports' })
  salesReport(ctx: JobContext) {
    // An app setting from .env, read like any other.
    const title = this.config.get<string>('REPORT_TITLE', 'Report');
    this.logger.log(`${title} for ${ctx.scheduledAt.toISOString()} (attempt ${ctx.attempt} of ${ctx.maxAttempts})`);
    return { title };
  }
}
