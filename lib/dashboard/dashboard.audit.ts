import { Inject, Injectable } from '@nestjs/common';
import { SchedulerHost } from '../scheduler.host.js';
import type { DashboardActionEvent, DashboardActionName } from '../telemetry/scheduler.events.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { DashboardRequest, ResolvedDashboardOptions } from './dashboard.options.js';

/**
 * The audit trail: one `dashboard:action` event per action asked for,
 * through the scheduler's events (`scheduler.on('dashboard:action', …)`).
 * @internal
 */
@Injectable()
export class DashboardAudit {
  constructor(
    private readonly host: SchedulerHost,
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
  ) {}

  /** Who acts, by the `actor` option; `null` when it throws or answers nothing. */
  actor(req: DashboardRequest): string | null {
    try {
      const who = this.options.actor(req);
      return typeof who === 'string' ? who : null;
    } catch {
      return null;
    }
  }

  /** Records a refused action. */
  denied(req: DashboardRequest, action: DashboardActionName, target: string, reason: string): void {
    this.emit({ action, target, actor: this.actor(req), outcome: 'denied', reason });
  }

  /** Runs an allowed action and records how it ended; resolves to (or rejects with) its own outcome. */
  async run<T>(req: DashboardRequest, action: DashboardActionName, target: string, work: () => Promise<T>): Promise<T> {
    const actor = this.actor(req);
    try {
      const result = await work();
      this.emit({ action, target, actor, outcome: 'ok' });
      return result;
    } catch (error) {
      this.emit({ action, target, actor, outcome: 'error', reason: (error as Error)?.message ?? String(error) });
      throw error;
    }
  }

  private emit(event: DashboardActionEvent): void {
    this.host.ports.service.events.emit('dashboard:action', event);
  }
}
