import type { HrTime } from '@opentelemetry/api';
import type {
  AggregationTemporality,
  CollectionResult,
  DataPointType,
  HistogramMetricData,
  MetricCollectOptions,
  MetricProducer,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { PACKAGE_VERSION } from '../../scheduler.constants.js';
import type { SchedulerHistogram, SchedulerHistogramOptions, SchedulerHistograms } from './histograms.js';
import { LocalHistogram } from './local-histogram.js';

/** `DataPointType.HISTOGRAM` and `AggregationTemporality.CUMULATIVE`, by value: the SDK's enums are only imported as types. */
const HISTOGRAM = 0 as DataPointType.HISTOGRAM;
const CUMULATIVE = 1 as AggregationTemporality.CUMULATIVE;

/**
 * Options of {@link SchedulerMetricProducer}.
 * @publicApi
 */
export interface SchedulerMetricProducerOptions {
  /** Attribute sets kept per histogram; past it, new sets share one point with `otel.metric.overflow: true` (as the SDK does). @default 2000 */
  cardinalityLimit?: number;
}

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/**
 * The scheduler's histograms aggregated in the process and handed to the
 * OpenTelemetry SDK as finished, cumulative data points: an SDK
 * `MetricProducer`. Recording a histogram through the SDK serialises the
 * attribute set on every call, which costs a busy node a measurable share
 * of each job (bench/README.md, "Metrics cost"); here the scheduler's
 * per-job records are bucket increments on points it found once, and any
 * other record a lookup by the attribute object and a few additions.
 *
 * Give the same instance to the app's reader and to the scheduler:
 * ```ts
 * export const schedulerMetrics = new SchedulerMetricProducer();
 * new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, metricProducers: [schedulerMetrics] })] });
 * SchedulerModule.forRoot({ metrics: { producer: schedulerMetrics } });
 * ```
 * Counters and gauges still go through `@opentelemetry/api` (they are
 * observed at collection, which costs nothing per job). A producer that no
 * reader collects keeps its histograms to itself: they are not exported.
 * `metricProducers` is marked experimental in the SDK (2.x).
 * @publicApi
 */
export class SchedulerMetricProducer implements MetricProducer, SchedulerHistograms {
  private readonly histograms = new Map<string, LocalHistogram>();
  private readonly cardinalityLimit: number;
  private readonly startTime = hrTime(Date.now());

  constructor(options: SchedulerMetricProducerOptions = {}) {
    const limit = options.cardinalityLimit ?? 2000;
    if (!Number.isInteger(limit) || limit < 2) throw new RangeError(`cardinalityLimit must be an integer of at least 2, got ${String(limit)}`);
    this.cardinalityLimit = limit;
  }

  /** The histogram of that name (one per name, whichever scheduler of the process asks for it). */
  histogram(name: string, options: SchedulerHistogramOptions): SchedulerHistogram {
    let histogram = this.histograms.get(name);
    if (!histogram) this.histograms.set(name, (histogram = new LocalHistogram(name, options, this.cardinalityLimit)));
    return histogram;
  }

  /** Every histogram with at least one point, as the SDK's metric data; called by the reader at each collection. */
  collect(_options?: MetricCollectOptions): Promise<CollectionResult> {
    const endTime = hrTime(Date.now());
    const metrics: HistogramMetricData[] = [];
    for (const histogram of this.histograms.values()) {
      const points = histogram.points();
      if (points.length === 0) continue;
      const { unit, description, valueType } = histogram.options;
      const boundaries = histogram.boundariesList;
      metrics.push({
        descriptor: { name: histogram.name, unit, description, valueType },
        aggregationTemporality: CUMULATIVE,
        dataPointType: HISTOGRAM,
        dataPoints: points.map((p) => ({
          attributes: p.attributes,
          startTime: this.startTime,
          endTime,
          value: { count: p.count, sum: p.sum, min: p.min, max: p.max, buckets: { boundaries, counts: p.counts } },
        })),
      });
    }
    // The reader keeps its own resource and takes only the scope metrics of a producer.
    const resourceMetrics = {
      resource: {},
      scopeMetrics: [{ scope: { name: 'nestjs-scheduler', version: PACKAGE_VERSION }, metrics }],
    } as unknown as ResourceMetrics;
    return Promise.resolve({ resourceMetrics, errors: [] });
  }
}
