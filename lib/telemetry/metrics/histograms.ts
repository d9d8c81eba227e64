import { ValueType, type Attributes, type Meter } from '@opentelemetry/api';

/**
 * A histogram the scheduler records into.
 * @publicApi
 */
export interface SchedulerHistogram {
  /** Records one value under an attribute set (the scheduler passes shared, frozen-in-practice objects). */
  record(value: number, attributes: Attributes): void;
}

/**
 * How one of the scheduler's histograms is described.
 * @publicApi
 */
export interface SchedulerHistogramOptions {
  unit: string;
  description: string;
  valueType: ValueType;
  /** Explicit bucket boundaries, increasing. */
  boundaries: readonly number[];
}

/**
 * Where the scheduler's histograms are kept: by default the meter's own
 * (`Meter.createHistogram`); `metrics.producer` swaps in a
 * `SchedulerMetricProducer` (`nestjs-scheduler/metrics`), which aggregates
 * them in the process and hands the SDK finished data points.
 * @publicApi
 */
export interface SchedulerHistograms {
  /** The histogram of that name: the same one for the same name. */
  histogram(name: string, options: SchedulerHistogramOptions): SchedulerHistogram;
}

/**
 * The meter's own histograms, created with advisory bucket boundaries.
 * @internal
 */
export function meterHistograms(meter: Meter): SchedulerHistograms {
  return {
    histogram: (name, { unit, description, valueType, boundaries }) =>
      meter.createHistogram(name, { unit, description, valueType, advice: { explicitBucketBoundaries: [...boundaries] } }),
  };
}

/** Seconds, as doubles: the options of every duration histogram. */
export function secondsHistogram(description: string, boundaries: readonly number[]): SchedulerHistogramOptions {
  return { unit: 's', description, valueType: ValueType.DOUBLE, boundaries };
}
