import type { CanActivate, Type } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { JsonValue } from '../common/json.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import { resolveDashboardUiOptions, type DashboardCspOptions, type DashboardUiOptions, type ResolvedDashboardUiOptions } from './dashboard-ui.options.js';
import { shown } from '../common/shown.js';

/**
 * The request the dashboard's callbacks (`access`, `actor`) receive: the
 * platform's own request (Express's `Request`, Fastify's `FastifyRequest`),
 * after the app's middleware and guards (so `req.user` is there when a
 * passport guard set it). Typed by what every platform has.
 * @publicApi
 */
export interface DashboardRequest {
  readonly headers: IncomingHttpHeaders;
}

/**
 * What a caller may change, action by action; an absent key is `false`.
 * @publicApi
 */
export interface DashboardPermissions {
  /** `POST jobs/:id/retry`, `POST jobs/:id/run-now`, `POST dead-letters/:id/retry` and `POST dead-letters/retry-all`. */
  retryJobs?: boolean;
  /** `POST jobs/:id/cancel`, and `POST jobs/bulk` with `action: 'cancel'` (`retryJobs` with `'retry'`). */
  cancelJobs?: boolean;
  /** `POST jobs/:id/delete`, and `POST jobs/bulk` with `action: 'delete'`. */
  deleteJobs?: boolean;
  /** `POST queues/:queue/pause` and `…/resume`. */
  pauseQueues?: boolean;
  /** `PUT queues/:queue/concurrency`. */
  scaleQueues?: boolean;
  /** `POST schedules/:name/pause` and `…/resume`. */
  pauseSchedules?: boolean;
  /** `PATCH schedules/:name` (runtime schedules). */
  editSchedules?: boolean;
  /** `POST schedules/:name/run-now`. */
  runSchedules?: boolean;
  /** `POST workflows/:runId/cancel`. */
  cancelWorkflows?: boolean;
  /** `POST workflows/:runId/retry`. */
  retryWorkflows?: boolean;
  /** `POST workflows/:runId/pause` and `…/resume`. */
  pauseWorkflows?: boolean;
}

/**
 * What `access(req)` answers: `'all'` (every action), `'read_only'` (reads
 * only), per-action {@link DashboardPermissions}, or `false` (nothing, not
 * even reads: 403).
 * @publicApi
 */
export type DashboardAccess = 'all' | 'read_only' | DashboardPermissions | false;

/**
 * Keys of the arguments (and result and meta) the dashboard hides, at any
 * depth: a string (compared case-insensitively) or a RegExp tested on the
 * key; or a function that returns what to show in place of the value.
 * @publicApi
 */
export type DashboardRedact = readonly (string | RegExp)[] | ((value: JsonValue) => JsonValue);

/**
 * Options of `SchedulerDashboardModule.forRoot` / `forRootAsync`.
 * @publicApi
 */
export interface SchedulerDashboardOptions {
  /**
   * Where the dashboard is served, below the app's global prefix and
   * version (`app.setGlobalPrefix('admin')` and `path: 'scheduler'` serve
   * `/admin/scheduler/api/...`). Read when the app registers its routes,
   * so `forRootAsync` may compute it. @default 'scheduler'
   */
  path?: string;
  /**
   * Nest guards run (in order) before every dashboard route, after the
   * app's global guards: classes (resolved from the container, or built
   * with their dependencies when not provided) or instances. A guard that
   * answers `false` makes the route answer 403; one that throws, its exception.
   * @default []
   */
  guards?: readonly (Type<CanActivate> | CanActivate)[];
  /** What the caller may do, asked once per request. @default () => 'all' (with guards), required without them */
  access?(req: DashboardRequest): DashboardAccess | Promise<DashboardAccess>;
  /** Refuses every action (403) whatever `access` answers. @default false */
  readOnly?: boolean;
  /**
   * Serves the dashboard with neither `guards` nor `access`. Without it
   * such a configuration fails at bootstrap (`SchedulerConfigError`), in
   * every environment. @default false
   */
  allowUnauthenticated?: boolean;
  /** What the dashboard hides of jobs' arguments, results and meta. @default DEFAULT_REDACTED_KEYS (`password`, `secret`, `token`, `apiKey`, `api_key`, `authorization`, `cookie`) */
  redact?: DashboardRedact;
  /** Who acts, for the `dashboard:action` event (e.g. `(req) => req.user.email`). @default () => null */
  actor?(req: DashboardRequest): string | null;
  /** How long the overview's shared snapshot is served before a new one is read (one per node whatever the number of tabs). @default 5000 */
  statsCacheMs?: number;
  /** A request that takes longer answers 503 (the store call is not cancelled). @default 5000 */
  queryTimeoutMs?: number;
  /** The most jobs or dead letters one page may hold (`limit` is capped to it). @default 200 */
  maxPageSize?: number;
  /**
   * `GET api/jobs` counts the matching jobs up to this many and no further
   * (`total.capped` says there are more, shown as "10k+"), so a page of a
   * table with millions of rows never counts them all. @default 10000
   */
  countCap?: number;
  /** How many of the last actions `GET api/audit` keeps, in this process (0: none). @default 200 */
  auditSize?: number;
  /** ms between two samples of `GET api/metrics/history` (this node's work, counted from events). @default 10000 */
  historyIntervalMs?: number;
  /** How many samples the history keeps (0: no history). @default 360 (an hour at the default interval) */
  historySize?: number;
  /** The browser UI served at `path` (see {@link DashboardUiOptions}); `false` serves the API only. @default {} (title 'Scheduler', theme 'auto') */
  ui?: false | DashboardUiOptions;
  /** How the UI follows changes: `GET api/events` (Server-Sent Events) or polling every `refreshMs`. @default 'sse' */
  live?: 'sse' | 'poll';
  /** ms between two refreshes of the UI when `live: 'poll'`, or when its event stream fails (at least 500). @default 5000 */
  refreshMs?: number;
  /** The UI's Content-Security-Policy (see {@link DashboardCspOptions}). @default {} (a strict policy of its own) */
  csp?: DashboardCspOptions;
}

/** The options with their defaults. @internal */
export interface ResolvedDashboardOptions extends ResolvedDashboardUiOptions {
  path: string;
  guards: readonly (Type<CanActivate> | CanActivate)[];
  access: (req: DashboardRequest) => DashboardAccess | Promise<DashboardAccess>;
  readOnly: boolean;
  redact: DashboardRedact;
  actor: (req: DashboardRequest) => string | null;
  statsCacheMs: number;
  queryTimeoutMs: number;
  maxPageSize: number;
  countCap: number;
  auditSize: number;
  historyIntervalMs: number;
  historySize: number;
}

const SOURCE = 'SchedulerDashboardModule';

function count(option: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new SchedulerConfigError(SOURCE, option, `must be an integer of at least ${min}, got ${String(value)}`);
  return value;
}

/**
 * Validates the options and fills in the defaults. @throws SchedulerConfigError
 * @internal
 */
export function resolveDashboardOptions(given: SchedulerDashboardOptions, defaultRedact: DashboardRedact): ResolvedDashboardOptions {
  const options = given ?? {};
  const guards = options.guards ?? [];
  if (!Array.isArray(guards)) throw new SchedulerConfigError(SOURCE, 'guards', 'must be an array of guards');
  if (options.access !== undefined && typeof options.access !== 'function') throw new SchedulerConfigError(SOURCE, 'access', 'must be a function');
  if (guards.length === 0 && options.access === undefined && options.allowUnauthenticated !== true) {
    throw new SchedulerConfigError(
      SOURCE,
      'guards',
      'the dashboard would be open to anyone: give `guards` or `access`, or set `allowUnauthenticated: true` to serve it unauthenticated',
    );
  }
  const path = (options.path ?? 'scheduler').replace(/^\/+|\/+$/g, '');
  if (!/^[\w\-./]*$/.test(path)) throw new SchedulerConfigError(SOURCE, 'path', `must be a URL path, got ${shown(options.path)}`);
  const redact = options.redact ?? defaultRedact;
  if (typeof redact !== 'function' && !Array.isArray(redact))
    throw new SchedulerConfigError(SOURCE, 'redact', 'must be a list of keys or RegExps, or a function');
  const access = options.access;
  const actor = options.actor;
  return {
    path,
    guards,
    access: access ? (req) => access.call(options, req) : () => 'all',
    readOnly: options.readOnly === true,
    redact,
    actor: actor ? (req) => actor.call(options, req) : () => null,
    statsCacheMs: count('statsCacheMs', options.statsCacheMs, 5000, 0),
    queryTimeoutMs: count('queryTimeoutMs', options.queryTimeoutMs, 5000, 1),
    maxPageSize: count('maxPageSize', options.maxPageSize, 200, 1),
    countCap: count('countCap', options.countCap, 10_000, 1),
    auditSize: count('auditSize', options.auditSize, 200, 0),
    historyIntervalMs: count('historyIntervalMs', options.historyIntervalMs, 10_000, 100),
    historySize: count('historySize', options.historySize, 360, 0),
    ...resolveDashboardUiOptions(options),
  };
}
