import type { MeterProvider } from '@opentelemetry/api';
import { parseDuration, type Duration } from '../../common/duration.js';
import type { OptionFailure } from '../../common/option-failure.js';
import type { SchedulerHistograms } from './histograms.js';
import { shown } from '../../common/shown.js';

/**
 * OpenTelemetry metrics (see docs/observability.md#metrics). The scheduler
 * records through `@opentelemetry/api` only: the app registers the SDK and
 * its exporter (Prometheus, OTLP…). With no SDK registered nothing is
 * subscribed and nothing is recorded.
 * @publicApi
 */
export interface MetricsOptions {
  /** `false`: no instrument is created. @default true */
  enabled?: boolean;
  /** Where the meter comes from. @default the global provider (`metrics.getMeterProvider()`) at start */
  meterProvider?: MeterProvider;
  /** Advisory bucket boundaries, in seconds, of the duration histograms. @default DEFAULT_METRIC_BUCKETS (5 ms … 1 h) */
  buckets?: number[];
  /** Which optional attributes are recorded. */
  attributes?: {
    /** `scheduler.job.name` on job instruments (capped at `maxJobNames`). @default true */
    jobName?: boolean;
    /** `error.type` on failed attempts (the error's class name, or `timeout`). @default true */
    errorType?: boolean;
  };
  /**
   * `'messaging'` or `'both'` also records OpenTelemetry's messaging
   * conventions (`messaging.process.duration`, `messaging.client.sent.messages`,
   * `messaging.client.consumed.messages`, with `messaging.system` `nestjs-scheduler`);
   * `'messaging'` leaves the scheduler's own job duration out. @default 'none'
   */
  semconv?: 'none' | 'messaging' | 'both';
  /** How often the leader reads queue counts for the queue gauges. @default '15s' */
  queueStatsInterval?: Duration;
  /** Distinct job names recorded before the rest are recorded as `_other`. @default 200 */
  maxJobNames?: number;
  /**
   * `scheduler.store.operation.duration`: one record per store call (claim,
   * complete, enqueue, heartbeat, rescue, prune). A completion is a call
   * per job, so on a busy node this is one more record per job; `false`
   * leaves the instrument out. @default true
   */
  storeOperations?: boolean;
  /**
   * Where the histograms are kept: a `SchedulerMetricProducer`
   * (`nestjs-scheduler/metrics`) that the app also gives its SDK reader
   * (`metricProducers`), so that a job's records are bucket increments
   * instead of the SDK's per-record work. Counters and gauges still use the meter.
   * @default null (the meter's own histograms)
   */
  producer?: SchedulerHistograms;
}

/**
 * The histogram buckets by default, in seconds: 5 ms to 1 h.
 * @publicApi
 */
export const DEFAULT_METRIC_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600];

/**
 * Metrics options checked, defaults filled in.
 * @internal
 */
export interface ResolvedMetricsOptions {
  enabled: boolean;
  meterProvider: MeterProvider | null;
  buckets: number[];
  jobName: boolean;
  errorType: boolean;
  scheduler: boolean;
  messaging: boolean;
  storeOperations: boolean;
  producer: SchedulerHistograms | null;
  queueStatsInterval: number;
  maxJobNames: number;
}

/**
 * Checks `metrics` options; `fail` throws the module's configuration error.
 * @internal
 */
export function resolveMetricsOptions(options: MetricsOptions | undefined, fail: OptionFailure): ResolvedMetricsOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) fail('metrics', 'must be an object');
  const o = options ?? {};
  for (const key of ['enabled', 'storeOperations'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') fail(`metrics.${key}`, 'must be true or false');
  }
  if (o.meterProvider !== undefined && typeof (o.meterProvider as { getMeter?: unknown })?.getMeter !== 'function') {
    fail('metrics.meterProvider', 'must be an OpenTelemetry MeterProvider (with getMeter)');
  }
  if (o.producer !== undefined && typeof (o.producer as { histogram?: unknown } | null)?.histogram !== 'function') {
    fail('metrics.producer', 'must be a SchedulerMetricProducer (nestjs-scheduler/metrics)');
  }
  const buckets = o.buckets ?? [...DEFAULT_METRIC_BUCKETS];
  if (!Array.isArray(buckets) || buckets.some((b, i) => typeof b !== 'number' || !Number.isFinite(b) || b < 0 || (i > 0 && b <= buckets[i - 1]!))) {
    fail('metrics.buckets', 'must be an increasing list of non-negative numbers of seconds');
  }
  const semconv = o.semconv ?? 'none';
  if (semconv !== 'none' && semconv !== 'messaging' && semconv !== 'both')
    fail('metrics.semconv', `must be 'none', 'messaging' or 'both', got ${shown(semconv)}`);
  let queueStatsInterval = 15_000;
  try {
    if (o.queueStatsInterval !== undefined) queueStatsInterval = parseDuration(o.queueStatsInterval);
  } catch (error) {
    fail('metrics.queueStatsInterval', (error as Error).message);
  }
  if (queueStatsInterval < 1) fail('metrics.queueStatsInterval', 'must be at least 1 ms');
  const maxJobNames = o.maxJobNames ?? 200;
  if (!Number.isInteger(maxJobNames) || maxJobNames < 0) fail('metrics.maxJobNames', `must be a non-negative integer, got ${String(maxJobNames)}`);
  for (const key of ['jobName', 'errorType'] as const) {
    const value = o.attributes?.[key];
    if (value !== undefined && typeof value !== 'boolean') fail(`metrics.attributes.${key}`, 'must be true or false');
  }
  return {
    enabled: o.enabled ?? true,
    meterProvider: o.meterProvider ?? null,
    buckets: [...buckets],
    jobName: o.attributes?.jobName ?? true,
    errorType: o.attributes?.errorType ?? true,
    scheduler: semconv !== 'messaging',
    messaging: semconv !== 'none',
    storeOperations: o.storeOperations ?? true,
    producer: o.producer ?? null,
    queueStatsInterval,
    maxJobNames,
  };
}
