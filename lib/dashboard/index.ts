/**
 * nestjs-scheduler/dashboard: the scheduler's dashboard, a JSON API served
 * by a Nest module (see docs/dashboard.md).
 */
export { SchedulerDashboardModule } from './dashboard.module.js';
export { DASHBOARD_OPTIONS_TYPE, DASHBOARD_ASYNC_OPTIONS_TYPE } from './dashboard.module-definition.js';
export type { SchedulerDashboardOptions, DashboardAccess, DashboardPermissions, DashboardRedact, DashboardRequest } from './dashboard.options.js';
export type { DashboardUiOptions, DashboardCspOptions, DashboardUiConfig } from './dashboard-ui.options.js';
export { DASHBOARD_CSRF_HEADER, DASHBOARD_CSRF_VALUE } from './dashboard.constants.js';
export { DASHBOARD_REDACTED } from './dashboard.redaction.js';
export type { DashboardRefusal } from './dashboard-access.guard.js';
export type {
  DashboardConfig,
  DashboardCounts,
  DashboardQueue,
  DashboardOverview,
  DashboardJobSummary,
  DashboardJobPage,
  DashboardAttemptError,
  DashboardWorkflowLink,
  DashboardJobDetail,
  DashboardSchedule,
  DashboardDeadLetter,
  DashboardWorkflowRunSummary,
  DashboardWorkflowRunPage,
  DashboardWorkflowNode,
  DashboardWorkflowEdge,
  DashboardWorkflowRunDetail,
} from './dashboard.views.js';
export type { DashboardLiveEventType, DashboardLiveEvent, DashboardLiveBatch } from './dashboard-events.js';
export type { DashboardHistory, DashboardHistorySample } from './dashboard-history.js';
export type { DashboardBulkAction, DashboardBulkRequest, DashboardBulkResult } from './dashboard-bulk.controller.js';
export type { DashboardAuditEntry } from './dashboard.audit.js';
export type { DashboardWorkflowChange } from './dashboard-workflows.controller.js';
export type { DashboardQueueChange } from './dashboard-queues.controller.js';
export type { DashboardJobCancel, DashboardJobRetry } from './dashboard-jobs.controller.js';
export type { DashboardScheduleChange, DashboardRunNow } from './dashboard-schedules.controller.js';
export type { DashboardWaitingCode, DashboardWaitingReason } from './dashboard-waiting.js';
export type { DashboardDeadLetterPage } from './dashboard-dead-letters.controller.js';
export type { DashboardActionEvent, DashboardActionName } from '../telemetry/scheduler.events.js';
