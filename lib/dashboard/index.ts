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
export type { DashboardConfig } from './dashboard-config.views.js';
export type { DashboardCounts, DashboardQueue, DashboardOverview } from './dashboard-queue.views.js';
export type { DashboardJobSummary, DashboardJobPage, DashboardAttemptError, DashboardWorkflowLink, DashboardJobDetail } from './dashboard-job.views.js';
export type { DashboardSchedule } from './dashboard-schedule.views.js';
export type { DashboardDeadLetter } from './dashboard-dead-letter.views.js';
export type {
  DashboardWorkflowRunSummary,
  DashboardWorkflowRunPage,
  DashboardWorkflowNode,
  DashboardWorkflowEdge,
  DashboardWorkflowRunDetail,
} from './dashboard-workflow.views.js';
export type { DashboardLiveEventType, DashboardLiveEvent, DashboardLiveBatch } from './dashboard-events.js';
export type { DashboardHistory, DashboardHistorySample } from './dashboard-history.js';
export type { DashboardBulkAction, DashboardBulkRequest, DashboardBulkResult } from './dashboard-bulk.controller.js';
export type { DashboardAuditEntry } from './dashboard.audit.js';
export type { DashboardWorkflowChange } from './dashboard-workflows.controller.js';
export type { DashboardQueueChange } from './dashboard-queues.controller.js';
export type { DashboardJobCancel, DashboardJobRetry } from './dashboard-jobs.controller.js';
export type { DashboardJobSearchPage, DashboardJobTotal } from './dashboard-search.js';
export { SUGGESTIONS_PER_KIND, type DashboardSearchSuggestions } from './dashboard-search.controller.js';
export type { DashboardScheduleChange, DashboardRunNow } from './dashboard-schedules.controller.js';
export type { DashboardWaitingCode, DashboardWaitingReason } from './dashboard-waiting.js';
export type { DashboardDeadLetterPage } from './dashboard-dead-letters.controller.js';
export type { DashboardNode, DashboardNodeList } from './dashboard-node.views.js';
export type { DashboardJobDelete } from './dashboard-job-actions.controller.js';
export type {
  DashboardConcurrencyRequest,
  DashboardConcurrencyChange,
  DashboardScheduleUpdate,
  DashboardScheduleEdit,
} from './dashboard-settings.controller.js';
export type { DashboardRetryAllRequest } from './dashboard-retry-all.controller.js';
export type { DashboardActionEvent, DashboardActionName } from '../telemetry/scheduler.events.js';
