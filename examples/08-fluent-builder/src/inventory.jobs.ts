import { Injectable, Logger } from '@nestjs/common';
import { every, on, Scheduled, type JobContext } from 'nestjs-scheduler';

// The rules, built once: the decorators use them, and the plans endpoint
// shows what they say (`describe()`, `toCron()`, `nextRuns()`).

/** `n` divides 60, so this is clock-aligned cron: :00, :05, :10 …; a tick is skipped while the last run is still going. */
export const syncInventory = every(5).minutes().withoutOverlapping();
/** Mondays and Thursdays at 08:00, Paris time. */
export const restockReport = on('mon', 'thu').at('08:00').timezone('Europe/Paris');
/** Every 15 minutes from 09:00 (included) to 17:00 (excluded) on weekdays, Paris time. */
export const officeHoursPoll = every(15).minutes().between('09:00', '17:00').weekdays().timezone('Europe/Paris');

@Injectable()
export class InventoryJobs {
  private readonly logger = new Logger(InventoryJobs.name);

  @Scheduled(syncInventory, { name: 'sync-inventory' })
  sync(ctx: JobContext) {
    this.logger.log(`inventory synced for ${ctx.scheduledAt.toISOString()}`);
  }

  // Job options other than overlap and misfire go in the second argument.
  @Scheduled(restockReport, { name: 'restock-report', timeout: '10m' })
  restock(ctx: JobContext) {
    this.logger.log(`restock report for ${ctx.scheduledAt.toISOString()}`);
  }

  @Scheduled(officeHoursPoll, { name: 'office-hours-poll' })
  poll(ctx: JobContext) {
    this.logger.log(`polled the supplier at ${ctx.scheduledAt.toISOString()}`);
  }
}
