import { Injectable, Logger } from '@nestjs/common';
import { Scheduled, type JobContext } from 'nestjs-scheduler';

/** Three schedules, the three kinds: a cron expression, an interval, and both with options. */
@Injectable()
export class ReportsJobs {
  private readonly logger = new Logger(ReportsJobs.name);
  /** What the jobs did, newest last (an app would write to its database). */
  readonly log: string[] = [];

  /** Every minute, on the minute (the fields are minute, hour, day of month, month, day of week). */
  @Scheduled({ cron: '* * * * *', name: 'minute-report' })
  minuteReport(ctx: JobContext) {
    const line = `minute report for ${ctx.scheduledAt.toISOString()}`;
    this.log.push(line);
    this.logger.log(line);
    return { lines: this.log.length }; // stored as the run's result
  }

  /** Every 10 seconds, aligned to :00, :10, :20 …; a run still going when the next is due makes that one skip. */
  @Scheduled({ every: '10s', name: 'heartbeat', overlap: 'skip' })
  heartbeat() {
    this.log.push('heartbeat');
  }

  /** Weekdays at 06:00 in New York, daylight saving included; at most 2 minutes a run, retried twice. */
  @Scheduled({ cron: '0 6 * * MON-FRI', zone: 'America/New_York', name: 'daily-digest', timeout: '2m', maxRetries: 2 })
  dailyDigest(ctx: JobContext) {
    // Long work would pass ctx.signal on (to fetch, a query…), so that a timeout or a shutdown can stop it.
    this.log.push(`digest for ${ctx.scheduledAt.toISOString()}`);
  }
}
