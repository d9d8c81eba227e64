import type { LoggerService, Type } from '@nestjs/common';
import type { JobContext } from '../execution/job-context.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import { checkFunction, checkOneOf, configuredClass, errorText, loggerOr, resultName, type AttemptResultName } from './builtin.helpers.js';
import type { AttemptOutcome, JobMiddleware } from './job-middleware.js';
import { shown } from '../common/shown.js';

const SOURCE = 'CheckInMiddleware';
const STATUSES: readonly CheckInStatus[] = ['start', 'success', 'failure'];
/** A failure's text sent in a POST body, at most this many characters (healthchecks.io keeps 100 KB). */
const MAX_BODY = 10_000;

/**
 * A check-in: an attempt started, succeeded or failed.
 * @publicApi
 */
export type CheckInStatus = 'start' | 'success' | 'failure';

/**
 * What {@link CheckInMiddleware} sends to `report` (and to `url` when it is a function).
 * @publicApi
 */
export interface CheckIn {
  status: CheckInStatus;
  job: JobContext<unknown>;
  /** How the attempt ended (null for `start`). */
  outcome: AttemptResultName | null;
  /** Milliseconds the attempt took (null for `start`). */
  durationMs: number | null;
  /** For `failure`: the error. */
  error?: unknown;
}

/**
 * Options of {@link CheckInMiddleware}: give `url` or `report`.
 * @publicApi
 */
export interface CheckInMiddlewareOptions {
  /**
   * A ping URL. A string follows healthchecks.io: `<url>/start`, `<url>`,
   * `<url>/fail`. A function returns the URL of each check-in (null: none).
   */
  url?: string | ((checkIn: CheckIn) => string | null);
  /** Your own check-in (Sentry's `captureCheckIn`, a Cronitor call…), instead of `url`. Awaited; a throw is logged, never fails the job. */
  report?: (checkIn: CheckIn) => void | Promise<void>;
  /** The check-ins sent. @default ['start', 'success', 'failure'] */
  on?: readonly CheckInStatus[];
  /** The HTTP method of pings; a failure's POST carries the error's message as its body. @default 'GET' */
  method?: 'GET' | 'POST';
  /** Milliseconds a ping may take before it is given up (and logged). @default 5000 */
  timeoutMs?: number;
  /** Where failed pings are logged. @default a Nest `Logger` with the context `SchedulerCheckIns` */
  logger?: LoggerService;
}

/**
 * Tells a cron monitor (healthchecks.io, Cronitor, Sentry crons…) when an
 * attempt starts, succeeds and fails, so that it alerts when a job stops
 * running or keeps failing. `success` is a completion, `failure` any failed
 * attempt (retried ones too) or cancel; a halt and a shutdown hand-back send
 * no end. A ping that fails or times out is logged and never fails the job.
 * Needs options: add `CheckInMiddleware.with({ url })` to a job's `middleware`.
 * @publicApi
 */
export class CheckInMiddleware implements JobMiddleware {
  private readonly url: ((checkIn: CheckIn) => string | null) | null;
  private readonly report: ((checkIn: CheckIn) => void | Promise<void>) | null;
  private readonly on: ReadonlySet<CheckInStatus>;
  private readonly method: 'GET' | 'POST';
  private readonly timeoutMs: number;
  private readonly logger: LoggerService;

  /** A class the scheduler builds with these options. */
  static with(options: CheckInMiddlewareOptions): Type<CheckInMiddleware> {
    return configuredClass(CheckInMiddleware, options);
  }

  constructor(options: CheckInMiddlewareOptions = {}) {
    const { url, report } = options;
    if ((url === undefined) === (report === undefined))
      throw new SchedulerConfigError(SOURCE, 'url', 'give exactly one of url or report (CheckInMiddleware.with({ url }))');
    if (url !== undefined && typeof url !== 'function') this.url = healthchecksUrl(url);
    else this.url = url ?? null;
    checkFunction(SOURCE, 'report', report);
    this.report = report ?? null;
    const on = options.on ?? STATUSES;
    if (!Array.isArray(on)) throw new SchedulerConfigError(SOURCE, 'on', `must be an array of ${STATUSES.join(', ')}`);
    this.on = new Set(on.map((status: CheckInStatus) => checkOneOf(SOURCE, 'on', status, STATUSES)));
    this.method = checkOneOf(SOURCE, 'method', options.method ?? 'GET', ['GET', 'POST']);
    this.timeoutMs = options.timeoutMs ?? 5000;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) throw new SchedulerConfigError(SOURCE, 'timeoutMs', 'must be a positive integer');
    this.logger = loggerOr(options.logger, 'SchedulerCheckIns');
  }

  async before(job: JobContext<unknown>): Promise<void> {
    if (this.on.has('start')) await this.send({ status: 'start', job, outcome: null, durationMs: null });
  }

  async onComplete(job: JobContext<unknown>, outcome: AttemptOutcome): Promise<void> {
    const result = resultName(outcome);
    if (outcome.status === 'halted' || result === 'release') return;
    const status: CheckInStatus = result === 'success' ? 'success' : 'failure';
    if (!this.on.has(status)) return;
    const checkIn: CheckIn = { status, job, outcome: result, durationMs: outcome.duration };
    if (status === 'failure') checkIn.error = outcome.error;
    await this.send(checkIn);
  }

  private async send(checkIn: CheckIn): Promise<void> {
    const { job } = checkIn;
    try {
      if (this.report) return await this.report(checkIn);
      const url = this.url!(checkIn);
      if (url === null) return;
      const body = this.method === 'POST' && checkIn.status === 'failure' ? errorText(checkIn.error).slice(0, MAX_BODY) : undefined;
      const response = await fetch(url, { method: this.method, body, signal: AbortSignal.timeout(this.timeoutMs) });
      // The body is not needed; reading it lets the connection be reused.
      await response.arrayBuffer();
      if (!response.ok) this.logger.warn(`check-in ${checkIn.status} of ${job.name} (${job.id}): ${url} answered ${response.status}`);
    } catch (error) {
      this.logger.warn(`check-in ${checkIn.status} of ${job.name} (${job.id}) failed: ${errorText(error)}`);
    }
  }
}

/** healthchecks.io's convention: `<url>/start` and `<url>/fail` beside `<url>` (a query string kept). */
function healthchecksUrl(base: string): (checkIn: CheckIn) => string {
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch {
    throw new SchedulerConfigError(SOURCE, 'url', `must be an absolute http(s) URL, got ${shown(base)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SchedulerConfigError(SOURCE, 'url', 'must be an http(s) URL');
  const at = (suffix: string) => {
    const url = new URL(parsed);
    url.pathname = url.pathname.replace(/\/+$/, '') + suffix;
    return url.toString();
  };
  const urls = { start: at('/start'), success: parsed.toString(), failure: at('/fail') };
  return (checkIn) => urls[checkIn.status];
}
