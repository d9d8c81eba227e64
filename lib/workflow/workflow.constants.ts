/**
 * Metadata key written by `@Workflow` on a class.
 * @internal
 */
export const WORKFLOW_METADATA = 'scheduler:workflow';
/**
 * Metadata key written by `@Step` on a method.
 * @internal
 */
export const STEP_METADATA = 'scheduler:step';
/**
 * A step's timeout when it names none: 5 minutes.
 * @internal
 */
export const DEFAULT_STEP_TIMEOUT = 5 * 60_000;
/**
 * A step's retries when it names none.
 * @internal
 */
export const DEFAULT_STEP_MAX_RETRIES = 3;
