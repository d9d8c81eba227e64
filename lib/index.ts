/** nestjs-scheduler: the public API. */
export { SchedulerModule } from './scheduler.module.js';
export { SCHEDULER_OPTIONS_TYPE, SCHEDULER_ASYNC_OPTIONS_TYPE } from './scheduler.module-definition.js';
export type { SchedulerModuleOptions, QueueOptions, LifelineOptions, RetentionOptions, StoreOption } from './scheduler.options.js';
export { SchedulerService } from './scheduler.service.js';
export { DeadLetters } from './dead-letters.js';
export type { ConfigDescription, ConfigEntry } from './service/config.describe.js';
export type { ConfigSource } from './config/env-sources.js';
export type {
  EnqueueOptions,
  EnqueuedJob,
  JobInfo,
  JobListFilter,
  JobStatus,
  QueueStats,
  SchedulerNode,
  HealthStatus,
  DeadLetterFilter,
  DeadLetterRetryFilter,
  DeadLetterPruneOptions,
  DeadLetterStats,
} from './scheduler.types.js';
export type {
  HealthState,
  HealthCheckName,
  HealthPreset,
  HealthCheckResult,
  LoopCheckOptions,
  StoreCheckOptions,
  LeaderCheckOptions,
  LagCheckOptions,
  StuckCheckOptions,
  DeadLettersCheckOptions,
  SchedulerHealthOptions,
  SchedulerHealthReport,
  QueueLag,
} from './health/health.types.js';
export type { DeadLetter } from './dead-letters/dead-letter.entry.js';
export { DEAD_LETTER_ALERT_TRIES, type DeadLetterOptions, type DeadLetterHandler } from './dead-letters/dead-letter.options.js';
export { DEAD_LETTER_ALERT_LEASE } from './dead-letters/dead-letter.alerts.js';
export type { DeadLetterClass } from './store/dead-letter-store.js';
export { CircuitBreakers } from './breakers/circuit-breakers.service.js';
export { CIRCUIT_BREAKER_DEFAULTS } from './breakers/breaker-settings.resolver.js';
export type { CircuitBreakerOptions, CircuitBreakerState, CircuitState } from './breakers/circuit-breaker.types.js';
export type { RuntimeScheduleInput } from './schedule/runtime-schedule.js';
export { MAX_PAYLOAD_BYTES, type WorkerArgs } from './queue/job.builder.js';

export { Scheduled, type ScheduledBesideBuilder } from './decorators/scheduled.decorator.js';
export { every, on, cron, at } from './schedule/builder/schedule-builder.factories.js';
export { ScheduleBuilderError, CronNotExpressibleError } from './schedule/builder/schedule-builder.errors.js';
export type {
  ScheduleBuilderBase,
  RecurringBuilder,
  DaysFilter,
  WindowedBuilder,
  DailyBuilder,
  TimedBuilder,
  OnceBuilder,
  AnyScheduleBuilder,
  EverySingular,
  EveryPlural,
  ScheduleBuilderInput,
} from './schedule/builder/schedule-builder.types.js';
export type { RunnableSchedule, ScheduleDoOptions } from './schedule/builder/runnable-schedule.types.js';
export type {
  Weekday,
  ScheduleMisfire,
  ScheduleJson,
  ScheduleJsonModifiers,
  CronScheduleJson,
  IntervalScheduleJson,
  OnceScheduleJson,
} from './schedule/builder/schedule-json.js';
export { Worker, type JobWorker } from './decorators/worker.decorator.js';
export { BatchWorker } from './batch/batch-worker.decorator.js';
export {
  MAX_ITEM_RETRIES,
  type BatchJob,
  type BatchContext,
  type BatchPage,
  type BatchResult,
  type BatchItemError,
  type BatchWorkerOptions,
  type BatchErrorStrategy,
} from './batch/batch.types.js';
export { RetryItemError, BatchFailedError, InvalidBatchPageError } from './batch/batch.errors.js';
export type {
  JobOptions,
  ScheduleOptions,
  ScheduledOptions,
  WorkerOptions,
  BackoffOption,
  BackoffFunction,
  BackoffPolicy,
  StorableBackoff,
  MisfirePolicy,
  OverlapPolicy,
  UniqueBy,
  UniqueOption,
  UniqueOptions,
  Preemptible,
} from './decorators/job-options.js';

export type { JobContext } from './execution/job-context.js';
export { exponentialBackoff, type ExponentialBackoffOptions } from './execution/backoff.js';
export {
  haltJob,
  ignoreError,
  type JobMiddleware,
  type MiddlewareHalt,
  type MiddlewareIgnore,
  type AttemptOutcome,
  type AttemptNext,
} from './middleware/job-middleware.js';
export type { AttemptResultName } from './middleware/builtin.helpers.js';
export { LoggingMiddleware, DEFAULT_REDACTED_KEYS, type LoggingMiddlewareOptions, type JobLogLine } from './middleware/logging.middleware.js';
export { ErrorReporterMiddleware, type ErrorReporterMiddlewareOptions, type ErrorReportContext } from './middleware/error-reporter.middleware.js';
export { CheckInMiddleware, type CheckInMiddlewareOptions, type CheckIn, type CheckInStatus } from './middleware/check-in.middleware.js';

export {
  SchedulerError,
  SchedulerConfigError,
  IncompleteStoreError,
  MissingPackageError,
  InvalidArgumentError,
  JobNotFoundError,
  JobStateError,
  QueueNotFoundError,
  DuplicateJobError,
  PayloadTooLargeError,
  UnstorableResultError,
  StaleAttemptError,
  RetryJobError,
  DiscardJobError,
  JobAbortedError,
  type AbortReason,
} from './scheduler.errors.js';

export type {
  SchedulerEventMap,
  SchedulerEventName,
  JobEvent,
  JobStopEvent,
  JobProgressEvent,
  JobPreemptEvent,
  JobResumeEvent,
  BatchStartEvent,
  BatchProgressEvent,
  BatchStopEvent,
  JobExceptionEvent,
  JobDiscardEvent,
  JobCancelEvent,
  JobSkipEvent,
  JobStaleEvent,
  JobOutcome,
  QueueEvent,
  PeerEvent,
  DeadLetterInsertEvent,
  DeadLetterRetryEvent,
  DeadLetterPruneEvent,
  CircuitEvent,
  CircuitRejectEvent,
  JobEnqueueEvent,
  JobSource,
  WorkflowExceptionEvent,
  DashboardActionEvent,
  DashboardActionName,
} from './telemetry/scheduler.events.js';

export type { Duration } from './common/duration.js';
export { parseDuration } from './common/duration.js';
export type { RateLimit, RateLimitsOptions, RateLimitKind } from './rate-limit/rate-limit.options.js';
export type { RateLimitStatus } from './rate-limit/token-bucket.js';
export { RateLimits } from './rate-limit/rate-limits.service.js';
export type { JsonValue, JsonObject, JsonScalar } from './common/json.js';
export { SystemClock, type Clock, type TimerHandle } from './clock/clock.js';

export type { Job, JobState, JobAttemptError, JobTraceContext, JobProgress, ErrorClass, UniqueState } from './store/job.types.js';
export { DEFAULT_UNIQUE_STATES, MAX_PROGRESS_BYTES } from './store/job.types.js';
export { MemoryStore } from './store/memory.store.js';
export { JOB_INPUT_LIMITS, DEFAULT_MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES_CEILING } from './store/job-input.validation.js';
export type { MemoryStoreOptions, PostgresStoreOptions, RedisStoreOptions, SqliteStoreOptions } from './store/store-options.js';

export { Workflow, Step } from './workflow/workflow.decorators.js';
export { Workflows, type WorkflowInfo, type WorkflowSummary } from './workflow/workflow.service.js';
export { WorkflowBuilder, type StepFunction, type BuilderStepOptions } from './workflow/workflow.builder.js';
export type { WorkflowDefinition, StepDefinition } from './workflow/workflow.definition.js';
export type {
  WorkflowRun,
  WorkflowRunState,
  StepRun,
  StepState,
  StepErrorPolicy,
  StepContext,
  StepOptions,
  WorkflowOptions,
  WorkflowSchedule,
  WorkflowRunFilter,
} from './workflow/workflow.types.js';
export type { WorkflowEvent, StepEvent } from './telemetry/scheduler.events.js';
export { WorkflowVersionMismatchError } from './scheduler.errors.js';

export { ShuttingDownError, NotLeaderError, StoreUnavailableError } from './scheduler.errors.js';
export { DEFAULT_METRIC_BUCKETS, type MetricsOptions } from './telemetry/metrics/metrics.options.js';
export type { SchedulerHistogram, SchedulerHistogramOptions, SchedulerHistograms } from './telemetry/metrics/histograms.js';
export { ClassifiedError, ERROR_CLASSES, errorTripsCircuit, type ClassifiedErrorOptions } from './errors/classified.error.js';
export { ERROR_CLASS_POLICIES } from './errors/error-class.policies.js';
export { SchedulerErrors, type ClassifyOptions } from './errors/errors.service.js';
export type { ErrorClassification, ErrorClassifyFunction, ErrorsOptions, ClassificationSource, NextAction } from './errors/error-classifier.types.js';
export type { JobDefaultsOptions } from './discovery/job-defaults.resolver.js';
