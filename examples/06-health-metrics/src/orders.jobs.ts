import { Injectable } from '@nestjs/common';
import { Scheduled } from 'nestjs-scheduler';

/** An error of its own class: its name becomes the `error.type` attribute of the failed run's metrics. */
export class SearchUnavailableError extends Error {
  override readonly name = 'SearchUnavailableError';
}

/** Two schedules, so that the metrics show a success and a failure. */
@Injectable()
export class OrdersJobs {
  synced = 0;

  /** Every 10 seconds: always succeeds. */
  @Scheduled({ every: '10s', name: 'sync-orders' })
  syncOrders() {
    this.synced += 1;
    return { synced: this.synced };
  }

  /** Every minute: its search cluster is down, and with no retries each run dies (a dead letter). */
  @Scheduled({ every: '1m', name: 'rebuild-index', maxRetries: 0 })
  rebuildIndex() {
    throw new SearchUnavailableError('search cluster unreachable (simulated)');
  }
}
