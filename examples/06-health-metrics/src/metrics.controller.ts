import { Controller, Get } from '@nestjs/common';
import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { metricsReader } from './telemetry.js';

/** One instrument as JSON: its data points with their attributes, and each point's value (count and sum for a histogram). */
export interface InstrumentSnapshot {
  name: string;
  unit: string;
  points: { attributes: Record<string, unknown>; value?: number; count?: number; sum?: number }[];
}

@Controller('metrics-snapshot')
export class MetricsController {
  /** What the SDK holds now for the scheduler's meter, `nestjs-scheduler` (a Prometheus exporter would serve the same). */
  @Get()
  async snapshot(): Promise<InstrumentSnapshot[]> {
    const { resourceMetrics } = await metricsReader.collect();
    const scope = resourceMetrics.scopeMetrics.find((s) => s.scope.name === 'nestjs-scheduler');
    return (scope?.metrics ?? []).map(toSnapshot).sort((a, b) => a.name.localeCompare(b.name));
  }
}

function toSnapshot(metric: MetricData): InstrumentSnapshot {
  const points =
    metric.dataPointType === DataPointType.HISTOGRAM
      ? metric.dataPoints.map((p) => ({ attributes: { ...p.attributes }, count: p.value.count, sum: p.value.sum ?? 0 }))
      : metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE
        ? metric.dataPoints.map((p) => ({ attributes: { ...p.attributes }, value: p.value }))
        : [];
  return { name: metric.descriptor.name, unit: metric.descriptor.unit, points };
}
