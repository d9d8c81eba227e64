import { BadRequestException, Controller, Get, Inject, Query, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { parseDuration } from '../common/duration.js';
import type { SchedulerHealthReport } from '../health/health.types.js';
import { SchedulerService } from '../scheduler.service.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { allowedActions } from './dashboard-actions.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { grantedTo } from './dashboard-request.js';
import { DASHBOARD_CSRF_HEADER, DASHBOARD_CSRF_VALUE, DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { ResolvedDashboardOptions } from './dashboard.options.js';
import type { DashboardConfig } from './dashboard-config.views.js';
import { DashboardAudit, type DashboardAuditEntry } from './dashboard.audit.js';
import { DashboardHistoryRing, type DashboardHistory } from './dashboard-history.js';

/**
 * `GET api/config` (what the UI needs: the CSRF header, the caller's actions), `GET api/audit`,
 * `GET api/metrics/history` and `GET api/health`.
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardConfigController {
  constructor(
    private readonly scheduler: SchedulerService,
    private readonly audit: DashboardAudit,
    private readonly historyRing: DashboardHistoryRing,
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
  ) {}

  @Get('api/config')
  config(@Req() req: object): DashboardConfig {
    const actions = allowedActions(grantedTo(req), this.options.readOnly);
    return {
      csrf: { header: DASHBOARD_CSRF_HEADER, value: DASHBOARD_CSRF_VALUE },
      readOnly: actions.length === 0,
      actions,
      statsCacheMs: this.options.statsCacheMs,
      maxPageSize: this.options.maxPageSize,
      ui: this.options.ui,
      live: this.options.live,
      refreshMs: this.options.refreshMs,
    };
  }

  /** This node's work, one sample per `historyIntervalMs`; `range` (a duration such as `15m` or `1h`) keeps the latest. */
  @Get('api/metrics/history')
  history(@Query('range') range?: string): DashboardHistory {
    if (range === undefined) return this.historyRing.history();
    let rangeMs: number;
    try {
      rangeMs = parseDuration(range);
    } catch (error) {
      throw new BadRequestException(`range: ${(error as Error).message}`);
    }
    return this.historyRing.history(rangeMs);
  }

  /** The last actions asked of this process's dashboard, newest first (`auditSize` of them). */
  @Get('api/audit')
  auditTrail(): { entries: DashboardAuditEntry[] } {
    return { entries: this.audit.entries() };
  }

  /** `SchedulerService.health()`: every check, the node, the leader, each queue's lag. */
  @Get('api/health')
  health(): Promise<SchedulerHealthReport> {
    return this.scheduler.health();
  }
}
