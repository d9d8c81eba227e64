import { Logger, type LoggerService, type Type } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { AttemptNext, AttemptOutcome } from './job-middleware.js';
import { shown } from '../common/shown.js';

/**
 * How an attempt ended, as the built-in middleware name it: `success`, or what followed a failure or halt.
 * @publicApi
 */
export type AttemptResultName = 'success' | AttemptNext;

/**
 * The name of an attempt's outcome: `success` for a completion (one whose
 * error `onError` ignored too), else what follows it.
 * @internal
 */
export function resultName(outcome: AttemptOutcome): AttemptResultName {
  return outcome.status === 'completed' ? 'success' : (outcome.next ?? 'retry');
}

/**
 * The trace id of the attempt's span, when an OpenTelemetry SDK with a
 * context manager is registered (the attempt's span is the active one while
 * its middleware runs); null otherwise.
 * @internal
 */
export function activeTraceId(): string | null {
  const span = trace.getSpanContext(context.active());
  return span && trace.isSpanContextValid(span) ? span.traceId : null;
}

/**
 * A subclass of `base` whose constructor takes no parameters and passes
 * `options`: the middleware resolver builds it with `ModuleRef.create`, which
 * finds no constructor parameters to inject (the built-in classes carry no
 * decorator, so no `design:paramtypes`).
 * @internal
 */
export function configuredClass<T, O>(base: new (options: O) => T, options: O): Type<T> {
  const Base = base as new (options: O) => object;
  const Configured = class extends Base {
    constructor() {
      super(options);
    }
  };
  // Errors and logs name the middleware, not an anonymous class.
  Object.defineProperty(Configured, 'name', { value: base.name });
  return Configured as Type<T>;
}

/**
 * The logger an option gives, or a Nest `Logger` with `context`.
 * @internal
 */
export function loggerOr(logger: LoggerService | undefined, fallback: string): LoggerService {
  return logger ?? new Logger(fallback);
}

/**
 * Checks that `value` is one of `allowed`.
 * @internal
 */
export function checkOneOf<T extends string>(source: string, option: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value))
    throw new SchedulerConfigError(source, option, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${shown(value)}`);
  return value;
}

/**
 * Checks that an option is a function, when given.
 * @internal
 */
export function checkFunction(source: string, option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new SchedulerConfigError(source, option, 'must be a function');
}

/**
 * An error's message, for logs and check-in bodies.
 * @internal
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * An error's class name (`Error` for an `Error` without a subclass, the type of anything else thrown).
 * @internal
 */
export function errorType(error: unknown): string {
  if (error instanceof Error) return error.constructor?.name || error.name || 'Error';
  return error === null ? 'null' : typeof error;
}
