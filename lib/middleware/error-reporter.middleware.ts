import type { LoggerService, Type } from '@nestjs/common';
import type { JobContext } from '../execution/job-context.js';
import { activeTraceId, checkFunction, checkOneOf, configuredClass, errorText, errorType, loggerOr } from './builtin.helpers.js';
import type { AttemptNext, AttemptOutcome, JobMiddleware } from './job-middleware.js';

const SOURCE = 'ErrorReporterMiddleware';

/**
 * What {@link ErrorReporterMiddleware} hands its `report` with the error.
 * @publicApi
 */
export interface ErrorReportContext {
  /** The failed attempt's context: id, name, queue, attempt, args, meta… */
  job: JobContext<unknown>;
  /** What follows the failure: `retry`, `dead` or `discard`. */
  outcome: Extract<AttemptNext, 'retry' | 'dead' | 'discard'>;
  /** True when no attempt is left (`dead` or `discard`). */
  final: boolean;
  /** Groups the same failure in the error tracker (e.g. Sentry's `fingerprint`). */
  fingerprint: readonly string[];
  /** Milliseconds the attempt took. */
  durationMs: number;
  /** The attempt span's trace id, or null without an OpenTelemetry SDK. */
  traceId: string | null;
}

/**
 * Options of {@link ErrorReporterMiddleware} (through `ErrorReporterMiddleware.with(options)`).
 * @publicApi
 */
export interface ErrorReporterMiddlewareOptions {
  /**
   * Sends the error to your tracker (Sentry, Bugsnag…). Awaited, so keep it
   * quick; if it throws or rejects, that is logged and the job is unaffected.
   * @default logs the error and its stack at `error` level
   */
  report?: (error: unknown, ctx: ErrorReportContext) => void | Promise<void>;
  /** `final`: only failures that leave no attempt (`dead`, `discard`); `every`: every failed attempt, retried ones too. @default 'final' */
  on?: 'final' | 'every';
  /** The failure's fingerprint. @default `[job name, error class name]` */
  fingerprint?: (error: unknown, job: JobContext<unknown>) => readonly string[];
  /** Where a failing `report` (and the default report) is logged. @default a Nest `Logger` with the context `SchedulerErrors` */
  logger?: LoggerService;
}

/**
 * Reports failed attempts to an error tracker: by default only those after
 * which no attempt is left (`on: 'final'`). Cancels, shutdown hand-backs and
 * halts are not failures and are not reported; neither is an error `onError`
 * let pass. A `report` that throws never makes the job fail. Opt-in: add it
 * to `middleware`, as it is (it logs) or with `ErrorReporterMiddleware.with(options)`.
 * @publicApi
 */
export class ErrorReporterMiddleware implements JobMiddleware {
  private readonly report: (error: unknown, ctx: ErrorReportContext) => void | Promise<void>;
  private readonly every: boolean;
  private readonly fingerprint: (error: unknown, job: JobContext<unknown>) => readonly string[];
  private readonly logger: LoggerService;

  /** A class the scheduler builds with these options (its defaults for any left out). */
  static with(options: ErrorReporterMiddlewareOptions): Type<ErrorReporterMiddleware> {
    return configuredClass(ErrorReporterMiddleware, options);
  }

  constructor(options: ErrorReporterMiddlewareOptions = {}) {
    checkFunction(SOURCE, 'report', options.report);
    checkFunction(SOURCE, 'fingerprint', options.fingerprint);
    this.every = checkOneOf(SOURCE, 'on', options.on ?? 'final', ['final', 'every']) === 'every';
    this.logger = loggerOr(options.logger, 'SchedulerErrors');
    this.report = options.report ?? ((error, ctx) => this.logger.error(describe(error, ctx), error instanceof Error ? error.stack : undefined));
    this.fingerprint = options.fingerprint ?? ((error, job) => [job.name, errorType(error)]);
  }

  async onComplete(job: JobContext<unknown>, outcome: AttemptOutcome): Promise<void> {
    const next = outcome.next;
    if (outcome.status !== 'failed' || (next !== 'retry' && next !== 'dead' && next !== 'discard')) return;
    const final = next !== 'retry';
    if (!final && !this.every) return;
    const error = outcome.error;
    try {
      const ctx: ErrorReportContext = {
        job,
        outcome: next,
        final,
        fingerprint: this.fingerprint(error, job),
        durationMs: outcome.duration,
        traceId: activeTraceId(),
      };
      await this.report(error, ctx);
    } catch (thrown) {
      this.logger.warn(`reporting the error of ${job.name} (${job.id}) attempt ${job.attempt} failed: ${errorText(thrown)}`);
    }
  }
}

function describe(error: unknown, ctx: ErrorReportContext): string {
  const { job } = ctx;
  return `${job.name} (${job.id}) attempt ${job.attempt}/${job.maxAttempts} failed (${ctx.outcome}) [${ctx.fingerprint.join(', ')}]: ${errorText(error)}`;
}
