import type { DashboardActionName } from '../telemetry/scheduler.events.js';

/** `GET api/config`: what the UI needs to know. Times are ISO strings in every view. @publicApi */
export interface DashboardConfig {
  /** The header (and its value) every action must carry. */
  csrf: { header: string; value: string };
  /** True when no action is allowed to this caller (read-only mode or access). */
  readOnly: boolean;
  /** The actions this caller may take. */
  actions: DashboardActionName[];
  statsCacheMs: number;
  maxPageSize: number;
}
