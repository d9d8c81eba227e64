import { initialMigration } from './001-initial.js';
import { workflowRunsMigration } from './002-workflow-runs.js';
import { leanIndexesMigration } from './003-lean-indexes.js';
import { readyLayoutMigration } from './004-ready-layout.js';
import { pushOffersMigration } from './005-push-offers.js';
import { offerListenersMigration } from './006-offer-listeners.js';
import { uniqueKeysMigration } from './007-unique-keys.js';
import { rateBucketsMigration } from './008-rate-buckets.js';
import { circuitBreakersMigration } from './009-circuit-breakers.js';
import { deadLetterEntriesMigration } from './010-dead-letter-entries.js';
import { jobProgressMigration } from './011-job-progress.js';
import { jobPreemptibleMigration } from './012-job-preemptible.js';
import { jobRetryBudgetMigration } from './013-job-retry-budget.js';
import { nodesMigration } from './014-nodes.js';
import { rareFinishedMigration } from './015-rare-finished.js';
import { breakerVersionsMigration } from './016-breaker-versions.js';
import type { SchedulerMigration } from './migration.js';

export type { SchedulerMigration } from './migration.js';

/**
 * Every shipped migration, in order. Append new ones; never edit a released one.
 * @internal
 */
export const MIGRATIONS: readonly SchedulerMigration[] = [
  initialMigration,
  workflowRunsMigration,
  leanIndexesMigration,
  readyLayoutMigration,
  pushOffersMigration,
  offerListenersMigration,
  uniqueKeysMigration,
  rateBucketsMigration,
  circuitBreakersMigration,
  deadLetterEntriesMigration,
  jobProgressMigration,
  jobPreemptibleMigration,
  jobRetryBudgetMigration,
  nodesMigration,
  rareFinishedMigration,
  breakerVersionsMigration,
];
