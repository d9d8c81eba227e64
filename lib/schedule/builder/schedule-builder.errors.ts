import { SchedulerError } from '../../scheduler.errors.js';

/**
 * A schedule builder was given something it cannot honour: a bad argument
 * (`at('25:00')`), a modifier the engine does not support, or a stored spec
 * that does not parse. Thrown where the call is made.
 * @publicApi
 */
export class ScheduleBuilderError extends SchedulerError {
  constructor(
    /** The builder call or spec field at fault, e.g. `at` or `between`. */
    readonly option: string,
    /** What is wrong, in a sentence. */
    readonly detail: string,
  ) {
    super(`schedule builder: ${option}(): ${detail}`);
  }
}

/**
 * `.toCron()` on a schedule that no single cron expression describes (a
 * fixed interval, a window that does not start on the hour, jitter, …).
 * @publicApi
 */
export class CronNotExpressibleError extends ScheduleBuilderError {
  constructor(
    /** Why, e.g. `a fixed interval of 7 minutes is not clock-aligned`. */
    reason: string,
  ) {
    super('toCron', `not expressible as one cron expression: ${reason}`);
  }
}
