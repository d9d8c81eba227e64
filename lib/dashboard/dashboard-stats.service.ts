import { Inject, Injectable } from '@nestjs/common';
import { SchedulerHost } from '../scheduler.host.js';
import { SchedulerService } from '../scheduler.service.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { ResolvedDashboardOptions } from './dashboard.options.js';
import { queueView, type DashboardCounts, type DashboardOverview } from './dashboard-queue.views.js';

const ZERO: DashboardCounts = { available: 0, scheduled: 0, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 };

/**
 * The overview's snapshot, shared: one read of the queues and the health per
 * `statsCacheMs` on this node, whatever the number of tabs asking; callers
 * arriving while it is read wait for that read. A failed read is not kept.
 * Time is the scheduler's clock.
 * @internal
 */
@Injectable()
export class DashboardStats {
  private current: { at: number; snapshot: Promise<DashboardOverview> } | null = null;

  constructor(
    private readonly scheduler: SchedulerService,
    private readonly host: SchedulerHost,
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
  ) {}

  overview(): Promise<DashboardOverview> {
    const now = this.host.ports.service.clock.now();
    if (this.current && now - this.current.at < this.options.statsCacheMs) return this.current.snapshot;
    const snapshot = this.read(now);
    const entry = { at: now, snapshot };
    this.current = entry;
    snapshot.catch(() => {
      if (this.current === entry) this.current = null;
    });
    return snapshot;
  }

  private async read(now: number): Promise<DashboardOverview> {
    const [stats, health] = await Promise.all([this.scheduler.queueStats(), this.scheduler.health()]);
    const queues = stats.map(queueView);
    const totals = { ...ZERO };
    for (const { counts } of queues) for (const key of Object.keys(totals) as (keyof DashboardCounts)[]) totals[key] += counts[key];
    return { generatedAt: new Date(now).toISOString(), node: health.node, leader: health.leader.node, health: health.status, queues, totals };
  }
}
