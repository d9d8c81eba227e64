import type { ErrorPorts } from '../composition/scheduler.ports.js';
import { InvalidArgumentError, JobNotFoundError } from '../scheduler.errors.js';
import type { ErrorClassification, JobRetrySettings, NextAction } from './error-classifier.types.js';

/**
 * Options of `scheduler.errors.classify` / `nextAction`.
 * @publicApi
 */
export interface ClassifyOptions {
  /** Classify as for this registered job, whose own `maxRetries` and backoff win over the class's. @default none: the module's settings */
  job?: string;
}

/**
 * `scheduler.errors`: how the scheduler treats a failure, asked directly
 * (the same decision a failed attempt gets; see docs/errors.md).
 * @publicApi
 */
export class SchedulerErrors {
  /** @internal */
  constructor(private readonly ports: () => ErrorPorts) {}

  /** The class of `error` and the retry settings it gets: `{ errorClass, retryable, maxRetries, backoff, retryAfter, tripsCircuit, source }`. */
  classify(error: unknown, options: ClassifyOptions = {}): ErrorClassification {
    return this.ports().classifier.classify(error, this.settings(options));
  }

  /**
   * What follows when attempt number `attempt` (1-based: 1 is the first run)
   * failed with `error`: `{ action: 'retry', delayMs }`, `{ action: 'dead' }`
   * (a terminal error, or retries spent: to the dead letters), or
   * `{ action: 'discard' }` (a `DiscardJobError`, only).
   */
  nextAction(error: unknown, attempt: number, options: ClassifyOptions = {}): NextAction {
    if (!Number.isInteger(attempt) || attempt < 1) throw new InvalidArgumentError('attempt', `must be a positive integer, got ${String(attempt)}`);
    return this.ports().classifier.nextAction(error, attempt, this.settings(options));
  }

  private settings(options: ClassifyOptions): JobRetrySettings {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object { job? }');
    if (options.job === undefined) return {};
    if (typeof options.job !== 'string') throw new InvalidArgumentError('job', 'must be a job name');
    const { registry } = this.ports();
    const definition = registry.findDefinition(options.job);
    if (!definition || definition.internal) throw new JobNotFoundError(options.job);
    return registry.retrySettingsFor({ name: definition.name, schedule: null, maxAttempts: definition.options.maxAttempts });
  }
}
