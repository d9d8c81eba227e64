import { createNoopMeter, metrics, type Meter } from '@opentelemetry/api';
import type { LoopTask } from '../../planner/scheduler.loop.js';
import type { SchedulerPlugin } from '../../plugins/scheduler.plugin.js';
import type { SchedulerEvents } from '../scheduler.events.js';
import { meterHistograms, type SchedulerHistograms } from './histograms.js';
import { JobMetrics } from './job.metrics.js';
import type { ResolvedMetricsOptions } from './metrics.options.js';
import { QueueGauges, type QueueGaugePorts } from './queue.gauges.js';
import { StoreTimer } from './store-timer.js';
import type { AttemptMetrics } from '../../execution/execution.types.js';

/** The meter's name and version (the package's). */
const METER = 'nestjs-scheduler';

/**
 * The scheduler's meter, or `null` when metrics are off or no SDK is
 * registered (the API's no-op meter): then nothing is created or
 * subscribed, so the job path pays nothing. Taken once, when the scheduler
 * is built (at bootstrap: an app registers its SDK before it starts Nest).
 * @internal
 */
export function schedulerMeter(options: ResolvedMetricsOptions, version: string): Meter | null {
  if (!options.enabled) return null;
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(METER, version);
  return meter === createNoopMeter() ? null : meter;
}

/**
 * Where the histograms of that meter go: the producer of `metrics.producer`, or the meter itself.
 * @internal
 */
export function schedulerHistograms(options: ResolvedMetricsOptions, meter: Meter): SchedulerHistograms {
  return options.producer ?? meterHistograms(meter);
}

/**
 * What the metrics use.
 * @internal
 */
export interface MetricsPorts extends Omit<QueueGaugePorts, 'interval'> {
  options: ResolvedMetricsOptions;
  events: Pick<SchedulerEvents, 'on'>;
  now(): number;
}

/**
 * OpenTelemetry metrics as a plugin: the job instruments (told by the
 * executor and by events), the store timer and the observable gauges, on the meter {@link schedulerMeter} gave (none: the plugin does nothing).
 * @internal
 */
export class MetricsPlugin implements SchedulerPlugin {
  readonly name = 'metrics';
  private readonly jobs: JobMetrics | null = null;
  private readonly gauges: QueueGauges | null = null;
  /** What the store's callers time their calls with; `null` when nothing records or `storeOperations` is off. */
  readonly storeTimer: StoreTimer | null = null;

  constructor(ports: MetricsPorts, meter: Meter | null) {
    if (!meter) return;
    const { options } = ports;
    const histograms = schedulerHistograms(options, meter);
    if (options.storeOperations) this.storeTimer = new StoreTimer(histograms, options.buckets);
    this.jobs = new JobMetrics(meter, histograms, options, ports.now);
    this.gauges = new QueueGauges(meter, { ...ports, interval: options.queueStatsInterval });
    this.jobs.start((event, listener) => ports.events.on(event, listener));
    this.gauges.start();
  }

  /** Whether instruments were created (metrics enabled and a real meter found). */
  get recording(): boolean {
    return this.jobs !== null;
  }

  /** What the executor tells of started and completed attempts; `null` when nothing records. */
  get attempts(): AttemptMetrics | null {
    return this.jobs;
  }

  tasks(): LoopTask[] {
    return this.gauges ? [this.gauges.task()] : [];
  }

  async stop(): Promise<void> {
    this.jobs?.stop();
    this.gauges?.stop();
  }
}
