import type { Attributes } from '@opentelemetry/api';
import type { SchedulerHistogram, SchedulerHistogramOptions } from './histograms.js';

/**
 * One attribute set's cumulative aggregation.
 * @internal
 */
export interface LocalHistogramPoint {
  readonly attributes: Attributes;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** One more than the boundaries: the last counts what is above them all. */
  readonly counts: number[];
}

/**
 * Records into one histogram under one attribute set.
 * @internal
 */
export type BoundHistogram = (value: number) => void;

/**
 * A recorder of `histogram` under `attributes`: the producer's point itself,
 * or a call of the histogram (the SDK's, which finds its aggregation per record).
 * @internal
 */
export function bindHistogram(histogram: SchedulerHistogram, attributes: Attributes): BoundHistogram {
  return histogram instanceof LocalHistogram ? histogram.bind(attributes) : (value) => histogram.record(value, attributes);
}

/**
 * The attributes of the point that takes the sets past the cardinality limit, as the SDK names it.
 * @internal
 */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });

/** The SDK's key for an attribute set: its entries sorted by key. */
function attributesKey(attributes: Attributes): string {
  return JSON.stringify(
    Object.keys(attributes)
      .sort()
      .map((key) => [key, attributes[key]]),
  );
}

/**
 * An explicit-bucket histogram aggregated in the process, cumulatively,
 * with the SDK's semantics (a value falls in the first bucket whose
 * boundary is ≥ it; NaN is ignored; past `cardinalityLimit` sets, new ones
 * share one overflow point). A record looks its point up by the attribute
 * object's identity, so the attribute set is serialised once per object,
 * not once per record as the SDK's own histograms do.
 * @internal
 */
export class LocalHistogram implements SchedulerHistogram {
  /** Weak, so that a caller handing fresh objects costs lookups but no memory. */
  private readonly byObject = new WeakMap<Attributes, LocalHistogramPoint>();
  private readonly byKey = new Map<string, LocalHistogramPoint>();
  private readonly boundaries: readonly number[];

  constructor(
    readonly name: string,
    readonly options: SchedulerHistogramOptions,
    private readonly cardinalityLimit: number,
  ) {
    this.boundaries = [...options.boundaries];
  }

  record(value: number, attributes: Attributes): void {
    this.add(this.byObject.get(attributes) ?? this.point(attributes), value);
  }

  /**
   * A recorder of one attribute set, its point found once: a record is then
   * a bucket increment. Found at the first record, so that a set bound but
   * never recorded makes no point (nor takes a place under the cardinality limit).
   */
  bind(attributes: Attributes): BoundHistogram {
    let point: LocalHistogramPoint | undefined;
    return (value) => this.add((point ??= this.byObject.get(attributes) ?? this.point(attributes)), value);
  }

  private add(point: LocalHistogramPoint, value: number): void {
    if (Number.isNaN(value)) return;
    point.count++;
    point.sum += value;
    if (value < point.min) point.min = value;
    if (value > point.max) point.max = value;
    const b = this.boundaries;
    // Linear: a handful of boundaries, and most values land in the first few.
    let i = 0;
    while (i < b.length && b[i]! < value) i++;
    point.counts[i]!++;
  }

  /** Copies of every point, as they stand. */
  points(): LocalHistogramPoint[] {
    return [...this.byKey.values()].map((p) => ({ ...p, counts: [...p.counts] }));
  }

  get boundariesList(): number[] {
    return [...this.boundaries];
  }

  private point(attributes: Attributes): LocalHistogramPoint {
    const key = attributesKey(attributes);
    let point = this.byKey.get(key);
    if (!point) {
      const overflow = this.byKey.size >= this.cardinalityLimit - 1;
      const own = overflow ? attributesKey(OVERFLOW_ATTRIBUTES) : key;
      point = this.byKey.get(own);
      if (!point) {
        point = {
          attributes: overflow ? OVERFLOW_ATTRIBUTES : { ...attributes },
          count: 0,
          sum: 0,
          min: Infinity,
          max: -Infinity,
          counts: new Array<number>(this.boundaries.length + 1).fill(0),
        };
        this.byKey.set(own, point);
      }
    }
    this.byObject.set(attributes, point);
    return point;
  }
}
