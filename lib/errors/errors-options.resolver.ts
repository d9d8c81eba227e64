import { SchedulerConfigError } from '../scheduler.errors.js';
import type { ErrorsOptions } from './error-classifier.types.js';

/**
 * Validates the `errors` module option; throws `SchedulerConfigError`.
 * @internal
 */
export function resolveErrorsOptions(options: ErrorsOptions | undefined, source: string): ErrorsOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SchedulerConfigError(source, 'errors', 'must be an object { classify? }');
  }
  for (const key of Object.keys(options)) {
    if (key !== 'classify') throw new SchedulerConfigError(source, `errors.${key}`, 'is not an errors option (classify)');
  }
  if (options.classify !== undefined && typeof options.classify !== 'function') {
    throw new SchedulerConfigError(source, 'errors.classify', "must be a function (error) => 'retryable' | 'transient' | 'degraded' | 'terminal' | undefined");
  }
  return options.classify === undefined ? {} : { classify: options.classify };
}
