import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

/**
 * A pull reader: nothing is exported on a timer; `collect()` reads every instrument when asked
 * (GET /metrics-snapshot here; Prometheus's exporter is a pull reader too, see the README).
 */
export class SnapshotReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export const metricsReader = new SnapshotReader();

/**
 * Registered when this file is imported, which main.ts does first: the scheduler takes the global
 * meter provider when it starts, and with none registered (the API's no-op) it records nothing.
 */
export const meterProvider = new MeterProvider({ readers: [metricsReader] });
metrics.setGlobalMeterProvider(meterProvider);
