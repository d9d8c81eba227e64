/**
 * nestjs-scheduler/store: the contract for store authors. A store is chosen
 * as a bundle (store, peer, notifier); every store passes the one
 * conformance suite. Application code needs none of this: it imports from
 * `nestjs-scheduler`. See docs/custom-stores.md.
 */
export {
  FREE_HANDBACKS,
  RESCUE_BACKOFF_BASE,
  RESCUE_BACKOFF_MAX,
  rescueBackoff,
  type JobStore,
  type JobPush,
  type JobRateLimits,
  type ClaimRateLimits,
  type RateLimitedClaim,
  type AttemptRef,
  type HeartbeatRef,
  type ClaimKey,
  type ClaimRequest,
  type CompleteOptions,
  type InsertOptions,
  type UnclaimOptions,
  type CountOptions,
  type DeleteOptions,
} from './job-store.js';
export type {
  CircuitBreakerStore,
  BreakerSettings,
  BreakerRecord,
  BreakerVerdict,
  BreakerOutcome,
  BreakerChange,
  BreakerAdmission,
} from '../breakers/circuit-breaker.types.js';
export type { RateLimitSpec, RateLimitStatus } from '../rate-limit/token-bucket.js';
export type { RateLimitKind } from '../rate-limit/rate-limit.options.js';
export {
  FINAL_STATES,
  MAX_KEPT_ERRORS,
  MAX_PROGRESS_BYTES,
  DEFAULT_UNIQUE_STATES,
  type UniqueState,
  type Job,
  type JobState,
  type JobAttemptError,
  type JobTraceContext,
  type JobProgress,
  type NewJob,
  type InsertResult,
  type StoredSchedule,
  type ScheduleState,
  type QueueState,
  type QueueCounts,
  type JobFilter,
  type JobArgsCondition,
  type ErrorClass,
} from './job.types.js';
export type { NodeRegistry, NodeBeat, NodeRecord } from './node-registry.js';
export type { DeadLetterStore, DeadLetterQuery, DeadLetterClass, DeadLetterCounts, DeadLetterPrune, DeadLetterAlert } from './dead-letter-store.js';
export {
  WORKFLOW_RUN_STATES,
  FINISHED_RUN_STATES,
  DEFAULT_RUN_LIST_LIMIT,
  type WorkflowRun,
  type WorkflowRunState,
  type WorkflowRunFilter,
  type NewWorkflowRun,
  type StepRun,
  type StepState,
} from './workflow-run.types.js';
export { checkRun, copyRun } from './workflow-runs.js';
export { JOB_INPUT_LIMITS, DEFAULT_MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES_CEILING, checkNewJobs, type CheckedJob } from './job-input.validation.js';
export { MAX_MESSAGE_LENGTH, storableResult, storableResultValue, storableMessage, storableAttemptError } from './storable-output.js';
export { buildJob, cloneJson, claimableAtInsert } from './new-job.js';
export type { StoreBundle, StoreContext, StoreFactory, CustomStoreOption } from './store-bundle.js';
export { LocalPeer, type Peer } from '../peer/peer.js';
export { LocalNotifier, type Notifier, type Notification } from '../notifier/notifier.js';
export { MemoryStore } from './memory.store.js';
export { runStoreConformance, newJobInput, type ConformanceStoreFactory } from './conformance/index.js';
export type { ConformanceTestApi, ConformanceIt, ConformanceAssertion, ConformanceMatchers } from './conformance/index.js';
