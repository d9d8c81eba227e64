import type { LoggerService, Type } from '@nestjs/common';
import type { JobContext } from '../execution/job-context.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import { activeTraceId, checkOneOf, configuredClass, errorText, errorType, loggerOr, resultName, type AttemptResultName } from './builtin.helpers.js';
import type { AttemptOutcome, JobMiddleware } from './job-middleware.js';

const SOURCE = 'LoggingMiddleware';

/**
 * Keys of a job's arguments that {@link LoggingMiddleware} replaces with
 * `'[redacted]'` unless `redact` says otherwise (compared case-insensitively, at any depth).
 * @publicApi
 */
export const DEFAULT_REDACTED_KEYS: readonly string[] = ['password', 'secret', 'token', 'apiKey', 'api_key', 'authorization', 'cookie'];

/**
 * Options of {@link LoggingMiddleware} (through `LoggingMiddleware.with(options)`).
 * @publicApi
 */
export interface LoggingMiddlewareOptions {
  /** Where the lines go. @default a Nest `Logger` with the context `SchedulerJobs` */
  logger?: LoggerService;
  /** The level of success lines. Failures are always `warn` (`retry`, `discard`, `cancel`, `release`) or `error` (`dead`). @default 'log' */
  level?: 'log' | 'debug' | 'verbose';
  /** The share of successful attempts logged, from 0 to 1 (sampled at random per attempt). Failures are always logged. @default 1 */
  successSampleRate?: number;
  /** Keys of the arguments replaced with `'[redacted]'` at any depth, compared case-insensitively. @default DEFAULT_REDACTED_KEYS */
  redact?: readonly string[];
  /** Whether the line carries the (redacted) arguments. @default true */
  args?: boolean;
  /** `object`: the line is an object, for structured loggers (pino, Nest's `ConsoleLogger` with `json: true`); `text`: one `key=value` string. @default 'object' */
  format?: 'object' | 'text';
}

/**
 * One line of {@link LoggingMiddleware}: one per attempt.
 * @publicApi
 */
export interface JobLogLine {
  event: 'job:attempt';
  id: string;
  name: string;
  queue: string;
  schedule: string | null;
  attempt: number;
  max_attempts: number;
  duration_ms: number;
  outcome: AttemptResultName;
  /** The attempt span's trace id, or null when no OpenTelemetry SDK (with a context manager) is registered. */
  trace_id: string | null;
  args?: unknown;
  /** For a failure: its message (a halt: its reason; an error `onError` ignored: that error's). */
  error?: string;
  error_type?: string;
  /** The reason `onError` gave when it let the failure pass. */
  ignored?: string;
}

/**
 * Logs one structured line per attempt ({@link JobLogLine}): id, name, queue,
 * attempt, duration, outcome and trace id. Failures are always logged,
 * successes sampled (`successSampleRate`). Opt-in: add it to the module's or
 * a job's `middleware`, as it is or configured with `LoggingMiddleware.with(options)`.
 * @publicApi
 */
export class LoggingMiddleware implements JobMiddleware {
  private readonly logger: LoggerService;
  private readonly level: 'log' | 'debug' | 'verbose';
  private readonly sampleRate: number;
  private readonly redacted: ReadonlySet<string>;
  private readonly withArgs: boolean;
  private readonly format: 'object' | 'text';

  /** A class the scheduler builds with these options (its defaults for any left out). */
  static with(options: LoggingMiddlewareOptions): Type<LoggingMiddleware> {
    return configuredClass(LoggingMiddleware, options);
  }

  constructor(options: LoggingMiddlewareOptions = {}) {
    const rate = options.successSampleRate ?? 1;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new SchedulerConfigError(SOURCE, 'successSampleRate', 'must be a number from 0 to 1');
    if (options.redact !== undefined && (!Array.isArray(options.redact) || options.redact.some((k) => typeof k !== 'string'))) {
      throw new SchedulerConfigError(SOURCE, 'redact', 'must be an array of key names');
    }
    this.logger = loggerOr(options.logger, 'SchedulerJobs');
    this.level = checkOneOf(SOURCE, 'level', options.level ?? 'log', ['log', 'debug', 'verbose']);
    this.format = checkOneOf(SOURCE, 'format', options.format ?? 'object', ['object', 'text']);
    this.sampleRate = rate;
    this.redacted = new Set((options.redact ?? DEFAULT_REDACTED_KEYS).map((k) => k.toLowerCase()));
    this.withArgs = options.args ?? true;
  }

  onComplete(ctx: JobContext<unknown>, outcome: AttemptOutcome): void {
    const name = resultName(outcome);
    // `< rate`: a rate of 1 logs every success, 0 none (Math.random() is in [0, 1)).
    if (name === 'success' && !(Math.random() < this.sampleRate)) return;
    const line: JobLogLine = {
      event: 'job:attempt',
      id: ctx.id,
      name: ctx.name,
      queue: ctx.queue,
      schedule: ctx.schedule,
      attempt: ctx.attempt,
      max_attempts: ctx.maxAttempts,
      duration_ms: outcome.duration,
      outcome: name,
      trace_id: activeTraceId(),
    };
    if (this.withArgs) line.args = redact(ctx.args, this.redacted);
    if (outcome.error !== undefined) {
      line.error = errorText(outcome.error);
      if (outcome.status !== 'halted') line.error_type = errorType(outcome.error);
    }
    if (outcome.ignored !== undefined) line.ignored = outcome.ignored;
    const message = this.format === 'text' ? toText(line) : line;
    if (name === 'success') this.logger[this.level]?.(message);
    else if (name === 'dead') this.logger.error(message);
    else this.logger.warn(message);
  }
}

/** A copy of `value` with the values of `keys` replaced, at any depth. */
function redact(value: unknown, keys: ReadonlySet<string>): unknown {
  if (keys.size === 0 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, keys));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = keys.has(key.toLowerCase()) ? '[redacted]' : redact(item, keys);
  return out;
}

/** `key=value` pairs, strings quoted when they hold spaces or quotes, objects as JSON. */
function toText(line: JobLogLine): string {
  return Object.entries(line)
    .map(([key, value]) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return `${key}=${typeof value === 'string' && /[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
    })
    .join(' ');
}
