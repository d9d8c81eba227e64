import type { DashboardActionName } from '../telemetry/scheduler.events.js';
import type { DashboardUiConfig } from './dashboard-ui.options.js';

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
  /** The UI's options (`null`: `ui: false`). */
  ui: DashboardUiConfig | null;
  /** How the UI follows changes, and its polling period. */
  live: 'sse' | 'poll';
  refreshMs: number;
}
