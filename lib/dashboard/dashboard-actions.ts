import { SetMetadata } from '@nestjs/common';
import type { DashboardActionName } from '../telemetry/scheduler.events.js';
import { DASHBOARD_ACTION } from './dashboard.constants.js';
import type { DashboardAccess, DashboardPermissions } from './dashboard.options.js';

/** The permission each action needs. */
const PERMISSION: Readonly<Record<DashboardActionName, keyof DashboardPermissions>> = {
  'jobs.retry': 'retryJobs',
  'jobs.cancel': 'cancelJobs',
  'jobs.runNow': 'retryJobs',
  'jobs.delete': 'deleteJobs',
  'queues.pause': 'pauseQueues',
  'queues.resume': 'pauseQueues',
  'queues.scale': 'scaleQueues',
  'schedules.pause': 'pauseSchedules',
  'schedules.resume': 'pauseSchedules',
  'schedules.runNow': 'runSchedules',
  'schedules.update': 'editSchedules',
  'deadLetters.retry': 'retryJobs',
  'deadLetters.retryAll': 'retryJobs',
  'jobs.bulkRetry': 'retryJobs',
  'jobs.bulkCancel': 'cancelJobs',
  'jobs.bulkDelete': 'deleteJobs',
  'workflows.cancel': 'cancelWorkflows',
  'workflows.retry': 'retryWorkflows',
  'workflows.pause': 'pauseWorkflows',
  'workflows.resume': 'pauseWorkflows',
};

/** Every action, in a fixed order. @internal */
export const DASHBOARD_ACTIONS = Object.keys(PERMISSION) as DashboardActionName[];

/**
 * A mutating route: its action (or what reads it from the request, `null`
 * for none: a bad request), and what names its target (a route parameter,
 * or a function of the request).
 * @internal
 */
export interface DashboardRouteAction {
  action: DashboardActionName | ((req: object) => DashboardActionName | null);
  param: string | ((req: object) => string);
}

/**
 * Marks a route as a mutation: CSRF-checked, allowed per action, audited.
 * @internal
 */
export const DashboardMutation = (action: DashboardRouteAction['action'], param: DashboardRouteAction['param']): MethodDecorator =>
  SetMetadata(DASHBOARD_ACTION, { action, param } satisfies DashboardRouteAction);

/**
 * Whether an access level allows an action (read-only mode refuses every one).
 * @internal
 */
export function allows(access: DashboardAccess, readOnly: boolean, action: DashboardActionName): boolean {
  if (readOnly || access === false || access === 'read_only') return false;
  if (access === 'all') return true;
  return access[PERMISSION[action]] === true;
}

/**
 * The actions an access level allows, for `GET api/config`.
 * @internal
 */
export function allowedActions(access: DashboardAccess, readOnly: boolean): DashboardActionName[] {
  return DASHBOARD_ACTIONS.filter((action) => allows(access, readOnly, action));
}
