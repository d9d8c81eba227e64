import type { ConformanceTestApi } from './conformance-api.js';
import { acksConformance } from './acks.conformance.js';
import { breakersConformance } from './breakers.conformance.js';
import { cancelConformance } from './cancel.conformance.js';
import { claimGuaranteesConformance } from './claim-guarantees.conformance.js';
import { claimConformance } from './claim.conformance.js';
import { deadLetterConformance } from './dead-letters.conformance.js';
import { insertConformance } from './insert.conformance.js';
import { keysConformance } from './keys.conformance.js';
import { limitsConformance } from './limits.conformance.js';
import { makeDueConformance } from './make-due.conformance.js';
import { nodesConformance } from './nodes.conformance.js';
import { prefetchConformance } from './prefetch.conformance.js';
import { progressConformance } from './progress.conformance.js';
import { queriesConformance } from './queries.conformance.js';
import { queuesConformance } from './queues.conformance.js';
import { rateLimitsConformance } from './rate-limits.conformance.js';
import { rescueConformance } from './rescue.conformance.js';
import { schedulesConformance } from './schedules.conformance.js';
import { searchConformance } from './search.conformance.js';
import { conformanceSuite, type ConformanceStoreFactory } from './suite.js';
import { uniqueConformance } from './unique.conformance.js';
import { workflowRunQueriesConformance } from './workflow-run-queries.conformance.js';
import { workflowRunsConformance } from './workflow-runs.conformance.js';

export { newJobInput, type ConformanceStoreFactory } from './suite.js';
export type { ConformanceTestApi, ConformanceIt, ConformanceAssertion, ConformanceMatchers } from './conformance-api.js';

/**
 * The behaviour every {@link JobStore} must show. Only the public interface is
 * used, and every time is passed explicitly, so any store (memory, PostgreSQL,
 * yours) can run it. Dates are compared in milliseconds. `test` is your test
 * runner's API (vitest or jest), so this module imports neither:
 *
 * ```ts
 * import { afterEach, beforeEach, describe, expect, it } from 'vitest';
 * import { runStoreConformance } from 'nestjs-scheduler/store';
 *
 * runStoreConformance({ describe, it, expect, beforeEach, afterEach }, 'my', async () => ({ store: new MyStore(), cleanup: async () => {} }));
 * ```
 * @publicApi
 */
export function runStoreConformance(test: ConformanceTestApi, name: string, makeStore: ConformanceStoreFactory): void {
  test.describe(`${name} store conformance`, () => {
    const suite = conformanceSuite(test, makeStore);
    insertConformance(suite);
    claimConformance(suite);
    claimGuaranteesConformance(suite);
    prefetchConformance(suite);
    keysConformance(suite);
    uniqueConformance(suite);
    acksConformance(suite);
    progressConformance(suite);
    limitsConformance(suite);
    rescueConformance(suite);
    cancelConformance(suite);
    queriesConformance(suite);
    searchConformance(suite);
    deadLetterConformance(suite);
    queuesConformance(suite);
    rateLimitsConformance(suite);
    schedulesConformance(suite);
    workflowRunsConformance(suite);
    workflowRunQueriesConformance(suite);
    makeDueConformance(suite);
    nodesConformance(suite);
    breakersConformance(suite);
  });
}
