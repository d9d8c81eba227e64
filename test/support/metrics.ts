import { type Attributes } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type MetricData, type MetricProducer } from '@opentelemetry/sdk-metrics';
import type { MetricsOptions } from '../../lib/index.js';
import { SchedulerMetricProducer } from '../../lib/metrics/index.js';

/** A pull reader: the test collects when it wants to look. */
class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** Where the scheduler's histograms go: the meter's own, or a {@link SchedulerMetricProducer} the reader collects. */
export type HistogramMode = 'meter' | 'producer';

/** A real OpenTelemetry SDK meter provider, and what its instruments hold now. */
export interface TestMetrics {
  provider: MeterProvider;
  /** The scheduler's `metrics` options for this provider (and its producer, in that mode). */
  options: MetricsOptions;
  /** The producer, in `producer` mode. */
  producer?: SchedulerMetricProducer;
  /** Every metric of the `nestjs-scheduler` meter, by name. */
  collect(): Promise<Map<string, MetricData>>;
  shutdown(): Promise<void>;
}

export function testMetrics(mode: HistogramMode = 'meter'): TestMetrics {
  const producer = mode === 'producer' ? new SchedulerMetricProducer() : undefined;
  const metricProducers: MetricProducer[] = producer ? [producer] : [];
  const reader = new TestReader({ metricProducers });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    options: producer ? { meterProvider: provider, producer } : { meterProvider: provider },
    producer,
    async collect() {
      const { resourceMetrics } = await reader.collect();
      // The SDK's own scope and the producer's: both named after the package.
      const scopes = resourceMetrics.scopeMetrics.filter((s) => s.scope.name === 'nestjs-scheduler');
      return new Map(scopes.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The points of a metric as `{ attributes, value }`: a histogram's value is its count, plus its sum. */
export function points(metric: MetricData | undefined): { attributes: Attributes; value: number; sum?: number }[] {
  if (!metric) return [];
  return metric.dataPoints.map((p) => {
    if (metric.dataPointType === DataPointType.HISTOGRAM) {
      const h = p.value as { count: number; sum?: number };
      return { attributes: p.attributes, value: h.count, sum: h.sum };
    }
    return { attributes: p.attributes, value: p.value as number };
  });
}
