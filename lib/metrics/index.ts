/**
 * nestjs-scheduler/metrics: {@link SchedulerMetricProducer}, the scheduler's
 * histograms aggregated in the process for an OpenTelemetry SDK reader
 * (`@opentelemetry/sdk-metrics` 2.x, which the app installs). See
 * docs/observability.md#metrics.
 */
export { SchedulerMetricProducer, type SchedulerMetricProducerOptions } from '../telemetry/metrics/scheduler-metric.producer.js';
