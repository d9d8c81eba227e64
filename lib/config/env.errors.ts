import { SchedulerConfigError } from '../scheduler.errors.js';

/**
 * One environment variable that was refused.
 * @publicApi
 */
export interface EnvProblem {
  /** The variable, e.g. `SCHEDULER_WORKERS`. */
  readonly variable: string;
  /** Its value as given, with secrets redacted (URL passwords, keys, tokens). */
  readonly value: string;
  /** Why it was refused, and what to write instead. */
  readonly message: string;
}

/**
 * Thrown once by `schedulerConfigFromEnv` (and at bootstrap through
 * `schedulerEnvConfig`), listing every bad variable with its value and why,
 * so one deploy shows every mistake. A `SchedulerConfigError` (option `env`).
 * @publicApi
 */
export class SchedulerEnvError extends SchedulerConfigError {
  constructor(
    /** Every refused variable, in the order of the variable table. */
    readonly problems: readonly EnvProblem[],
  ) {
    super(
      'environment',
      problems.map((problem) => problem.variable).join(', '),
      `${problems.length} bad variable${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((problem) => `  ${problem.variable}=${JSON.stringify(problem.value)}: ${problem.message}`).join('\n'),
    );
  }
}
