import type { Attributes, BatchObservableResult, Meter, MetricOptions, Observable } from '@opentelemetry/api';

/**
 * Counters kept in the process and reported as observable counters: a job
 * adds to a tally (one map lookup) instead of calling the SDK, which hashes
 * the attribute set on every call; the SDK reads each tally once per
 * collection. Tallies are keyed by attribute object, so callers pass the
 * shared objects of {@link AttributeSets}. Exported, they are the same
 * monotonic sums a synchronous counter gives.
 * @internal
 */
export class LocalCounters {
  private readonly counters: { observable: Observable; tallies: Map<Attributes, number> }[] = [];
  private readonly callback = (result: BatchObservableResult) => {
    for (const { observable, tallies } of this.counters) for (const [attributes, value] of tallies) result.observe(observable, value, attributes);
  };

  constructor(private readonly meter: Meter) {}

  /** A new counter; `add(attributes, n = 1)` counts. */
  counter(name: string, options: MetricOptions): (attributes: Attributes, n?: number) => void {
    const tallies = new Map<Attributes, number>();
    this.counters.push({ observable: this.meter.createObservableCounter(name, options), tallies });
    return (attributes, n = 1) => {
      tallies.set(attributes, (tallies.get(attributes) ?? 0) + n);
    };
  }

  start(): void {
    this.meter.addBatchObservableCallback(
      this.callback,
      this.counters.map((c) => c.observable),
    );
  }

  stop(): void {
    this.meter.removeBatchObservableCallback(
      this.callback,
      this.counters.map((c) => c.observable),
    );
  }
}
