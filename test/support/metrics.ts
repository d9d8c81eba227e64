import { type Attributes } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';

/** A pull reader: the test collects when it wants to look. */
class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** A real OpenTelemetry SDK meter provider, and what its instruments hold now. */
export interface TestMetrics {
  provider: MeterProvider;
  /** Every metric of the `nestjs-scheduler` meter, by name. */
  collect(): Promise<Map<string, MetricData>>;
  shutdown(): Promise<void>;
}

export function testMetrics(): TestMetrics {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    async collect() {
      const { resourceMetrics } = await reader.collect();
      const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === 'nestjs-scheduler');
      return new Map((scope?.metrics ?? []).map((m) => [m.descriptor.name, m]));
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
