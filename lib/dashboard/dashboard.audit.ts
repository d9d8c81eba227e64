import { Inject, Injectable } from '@nestjs/common';
import { SchedulerHost } from '../scheduler.host.js';
import type { DashboardActionEvent, DashboardActionName } from '../telemetry/scheduler.events.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { DashboardRequest, ResolvedDashboardOptions } from './dashboard.options.js';

/** `GET api/audit`: one action, when it was asked for (the scheduler's clock). @publicApi */
export interface DashboardAuditEntry extends DashboardActionEvent {
  at: string;
}

/**
 * The audit trail: one `dashboard:action` event per action asked for,
 * through the scheduler's events (`scheduler.on('dashboard:action', …)`),
 * and the last `auditSize` of them kept in this process for `GET api/audit`.
 * @internal
 */
@Injectable()
export class DashboardAudit {
  /** A ring: `next` is where the next entry goes once it is full. */
  private readonly ring: DashboardAuditEntry[] = [];
  private next = 0;

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

  /**
   * Runs an allowed action and records how it ended; resolves to (or rejects
   * with) its own outcome. `count` gives a bulk action's count from its result.
   */
  async run<T>(
    req: DashboardRequest,
    action: DashboardActionName,
    target: string,
    work: () => Promise<T>,
    count?: (result: T) => number | undefined,
  ): Promise<T> {
    const actor = this.actor(req);
    try {
      const result = await work();
      const n = count?.(result);
      this.emit({ action, target, actor, outcome: 'ok', ...(n === undefined ? {} : { count: n }) });
      return result;
    } catch (error) {
      this.emit({ action, target, actor, outcome: 'error', reason: (error as Error)?.message ?? String(error) });
      throw error;
    }
  }

  /** The last actions, newest first. */
  entries(): DashboardAuditEntry[] {
    const ordered = [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return ordered.reverse().map((entry) => ({ ...entry }));
  }

  private emit(event: DashboardActionEvent): void {
    const ports = this.host.ports.service;
    this.keep({ at: new Date(ports.clock.now()).toISOString(), ...event });
    ports.events.emit('dashboard:action', event);
  }

  private keep(entry: DashboardAuditEntry): void {
    const size = this.options.auditSize;
    if (size === 0) return;
    if (this.ring.length < size) this.ring.push(entry);
    else {
      this.ring[this.next] = entry;
      this.next = (this.next + 1) % size;
    }
  }
}
