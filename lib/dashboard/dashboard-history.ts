import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { TimerHandle } from '../clock/clock.js';
import { SchedulerHost } from '../scheduler.host.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { ResolvedDashboardOptions } from './dashboard.options.js';

/**
 * One interval of this node's work, as `GET api/metrics/history` answers it.
 * @publicApi
 */
export interface DashboardHistorySample {
  /** The end of the interval (the scheduler's clock), ISO 8601. */
  at: string;
  /** Attempts started in the interval. */
  started: number;
  /** Attempts that ended in the interval, by what became of them. */
  completed: number;
  retried: number;
  dead: number;
  discarded: number;
  cancelled: number;
  /** Jobs running on this node at the end of the interval. */
  running: number;
  /** The mean and the longest duration (ms) of the attempts that ended, `null` when none did. */
  meanDurationMs: number | null;
  maxDurationMs: number | null;
}

/**
 * The history: the interval between samples and the samples, oldest first.
 * @publicApi
 */
export interface DashboardHistory {
  intervalMs: number;
  samples: DashboardHistorySample[];
}

type Ended = 'completed' | 'retried' | 'dead' | 'discarded' | 'cancelled';

/**
 * A ring of `historySize` samples, one every `historyIntervalMs` on the
 * scheduler's clock, counted from the scheduler's events: it reads no store,
 * so an idle dashboard costs no query, and it needs no metrics backend.
 * What it shows is this node's work since the app started.
 * @internal
 */
@Injectable()
export class DashboardHistoryRing implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly samples: DashboardHistorySample[] = [];
  private current = blank();
  private durations = { total: 0, max: 0, count: 0 };
  private timer: TimerHandle | null = null;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly host: SchedulerHost,
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.historySize === 0) return;
    const { events } = this.host.ports.service;
    const ended = (kind: Ended) => (e: { duration: number | null }) => {
      this.current[kind]++;
      if (e.duration === null) return;
      this.durations.total += e.duration;
      this.durations.count++;
      this.durations.max = Math.max(this.durations.max, e.duration);
    };
    this.unsubscribe.push(
      events.on('job:start', () => {
        this.current.started++;
      }),
      events.on('job:stop', ended('completed')),
      events.on('job:exception', (e) => ended(e.nextRunAt ? 'retried' : 'dead')(e)),
      events.on('job:discard', ended('discarded')),
      events.on('job:cancel', (e) => ended('cancelled')({ duration: e.job.startedAt ? e.duration : null })),
    );
    this.arm();
  }

  onApplicationShutdown(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.timer !== null) this.host.ports.service.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** The samples of the last `rangeMs` (all kept when omitted). */
  history(rangeMs?: number): DashboardHistory {
    const since = rangeMs === undefined ? -Infinity : this.host.ports.service.clock.now() - rangeMs;
    return { intervalMs: this.options.historyIntervalMs, samples: this.samples.filter((s) => Date.parse(s.at) > since) };
  }

  private arm(): void {
    const { clock } = this.host.ports.service;
    this.timer = clock.setTimeout(() => {
      this.take();
      this.arm();
    }, this.options.historyIntervalMs);
  }

  private take(): void {
    const { clock, queues } = this.host.ports.service;
    const { count, total, max } = this.durations;
    this.samples.push({
      ...this.current,
      at: new Date(clock.now()).toISOString(),
      running: queues.all().reduce((n, runner) => n + runner.busy, 0),
      meanDurationMs: count === 0 ? null : Math.round(total / count),
      maxDurationMs: count === 0 ? null : max,
    });
    if (this.samples.length > this.options.historySize) this.samples.shift();
    this.current = blank();
    this.durations = { total: 0, max: 0, count: 0 };
  }
}

function blank(): DashboardHistorySample {
  return { at: '', started: 0, completed: 0, retried: 0, dead: 0, discarded: 0, cancelled: 0, running: 0, meanDurationMs: null, maxDurationMs: null };
}
