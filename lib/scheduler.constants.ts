/**
 * This package's version (the OpenTelemetry meter's); a test keeps it equal to package.json's.
 * @internal
 */
export const PACKAGE_VERSION = '0.1.0';
/**
 * Metadata key written by `@Scheduled` on a method.
 * @internal
 */
export const SCHEDULED_METADATA = 'scheduler:scheduled';
/**
 * Metadata key written by `@Worker` on a class.
 * @internal
 */
export const WORKER_METADATA = 'scheduler:worker';
/**
 * Metadata key written by `@BatchWorker` on a class (beside `WORKER_METADATA`): its batch options.
 * @internal
 */
export const BATCH_METADATA = 'scheduler:batch';
/**
 * Injection token of the resolved module options.
 * @internal
 */
export const SCHEDULER_OPTIONS = Symbol('scheduler:options');
/**
 * Injection token of the active `JobStore`.
 * @internal
 */
export const SCHEDULER_STORE = Symbol('scheduler:store');
/**
 * Injection token of the active `Clock`.
 * @internal
 */
export const SCHEDULER_CLOCK = Symbol('scheduler:clock');
/**
 * The queue used when a job names none.
 * @internal
 */
export const DEFAULT_QUEUE = 'default';
