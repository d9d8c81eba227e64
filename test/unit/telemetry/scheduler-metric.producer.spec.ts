import { ValueType, type Attributes } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { SchedulerMetricProducer } from '../../../lib/metrics/index.js';
import { bindHistogram } from '../../../lib/telemetry/metrics/local-histogram.js';
import { StoreTimer, timeStore } from '../../../lib/telemetry/metrics/store-timer.js';

class PullReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const BOUNDARIES = [0.005, 0.01, 0.1, 1, 10];
const OPTIONS = { unit: 's', description: 'd', valueType: ValueType.DOUBLE, boundaries: BOUNDARIES };

async function histogramOf(reader: MetricReader, name: string): Promise<HistogramMetricData> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  expect(metric?.dataPointType).toBe(DataPointType.HISTOGRAM);
  return metric as HistogramMetricData;
}

const byAttributes = (metric: HistogramMetricData) =>
  metric.dataPoints
    .map((p) => ({ attributes: p.attributes, value: p.value }))
    .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));

/** A producer's histogram `ours` and the SDK's own `reference`, collected by one reader. */
function againstTheSdk() {
  const producer = new SchedulerMetricProducer();
  const reader = new PullReader({ metricProducers: [producer] });
  const provider = new MeterProvider({ readers: [reader] });
  const sdk = provider.getMeter('reference').createHistogram('reference', { advice: { explicitBucketBoundaries: BOUNDARIES } });
  return { reader, provider, sdk, ours: producer.histogram('ours', OPTIONS) };
}

describe('SchedulerMetricProducer', () => {
  it("aggregates as the SDK's own histogram does: same buckets (edges included), counts, sums, minimums and maximums", async () => {
    const { reader, provider, sdk, ours } = againstTheSdk();
    const a: Attributes = { 'scheduler.queue': 'default', 'scheduler.job.outcome': 'success' };
    // Equal sets in another key order are one point, as for the SDK.
    const b: Attributes = { 'scheduler.job.outcome': 'success', 'scheduler.queue': 'default' };
    const c: Attributes = { 'scheduler.queue': 'emails' };
    const values = [0, 0.005, 0.0051, 0.01, 0.5, 1, 1.5, 10, 11, 3600, Number.NaN];
    for (const [i, value] of values.entries()) {
      const attributes = [a, b, c][i % 3]!;
      sdk.record(value, attributes);
      ours.record(value, attributes);
    }
    expect(byAttributes(await histogramOf(reader, 'ours'))).toEqual(byAttributes(await histogramOf(reader, 'reference')));
    await provider.shutdown();
  });

  it('is cumulative across collections, hands out copies, and reports each histogram once whoever asks for it', async () => {
    const producer = new SchedulerMetricProducer();
    const first = producer.histogram('h', OPTIONS);
    expect(producer.histogram('h', OPTIONS)).toBe(first);
    const set = { q: 'a' };
    first.record(0.5, set);
    const before = (await producer.collect()).resourceMetrics.scopeMetrics[0]!;
    expect(before.scope).toMatchObject({ name: 'nestjs-scheduler' });
    first.record(2, { q: 'a' });
    const after = (await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics[0] as HistogramMetricData;
    expect(after.dataPoints[0]!.value).toMatchObject({ count: 2, sum: 2.5, min: 0.5, max: 2 });
    // The first collection's point did not move.
    expect((before.metrics[0] as HistogramMetricData).dataPoints[0]!.value.count).toBe(1);
    expect(after.dataPoints[0]!.startTime).toEqual((before.metrics[0] as HistogramMetricData).dataPoints[0]!.startTime);
  });

  it('leaves out histograms with nothing recorded, and past the cardinality limit puts new sets on one overflow point', async () => {
    const producer = new SchedulerMetricProducer({ cardinalityLimit: 3 });
    producer.histogram('empty', OPTIONS);
    const h = producer.histogram('h', OPTIONS);
    for (const q of ['a', 'b', 'c', 'd', 'b']) h.record(1, { q });
    const metrics = (await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics as HistogramMetricData[];
    expect(metrics.map((m) => m.descriptor.name)).toEqual(['h']);
    const points = metrics[0]!.dataPoints.map((p) => `${JSON.stringify(p.attributes)} ${p.value.count}`);
    expect(points).toEqual(['{"q":"a"} 1', '{"q":"b"} 2', '{"otel.metric.overflow":true} 2']);
    expect(() => new SchedulerMetricProducer({ cardinalityLimit: 1 })).toThrow(/cardinalityLimit/);
  });

  it('records through a bound set as through record(), and makes no point for a set bound but never recorded', async () => {
    const producer = new SchedulerMetricProducer();
    const h = producer.histogram('h', OPTIONS);
    const set = { q: 'a' };
    const bound = bindHistogram(h, set);
    bindHistogram(h, { q: 'never' });
    bound(0.5);
    h.record(2, { q: 'a' });
    bound(Number.NaN);
    const points = ((await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics[0] as HistogramMetricData).dataPoints;
    expect(points.map((p) => ({ attributes: p.attributes, count: p.value.count, sum: p.value.sum }))).toEqual([{ attributes: set, count: 2, sum: 2.5 }]);
  });

  it("records through bound sets what the SDK's histogram records of the same values, equal sets bound twice into one point", async () => {
    const { reader, provider, sdk, ours } = againstTheSdk();
    // Two binds of equal sets (another object, another key order) record into one point.
    const first = bindHistogram(ours, { q: 'a', o: 'success' });
    const second = bindHistogram(ours, { o: 'success', q: 'a' });
    let seed = 7;
    const next = () => ((seed = (seed * 48271) % 2147483647) / 2147483647) * 20;
    for (let round = 0; round < 3; round++) {
      // 1,000 values a round, boundaries among them, then a collection.
      for (let i = 0; i < 1000; i++) {
        const value = i % 97 === 0 ? BOUNDARIES[i % BOUNDARIES.length]! : next();
        (i % 3 === 0 ? second : first)(value);
        sdk.record(value, { q: 'a', o: 'success' });
      }
      const [mine, theirs] = [await histogramOf(reader, 'ours'), await histogramOf(reader, 'reference')];
      expect(mine.dataPoints).toHaveLength(1);
      const { sum, ...rest } = mine.dataPoints[0]!.value;
      const { sum: reference, ...expected } = theirs.dataPoints[0]!.value;
      expect(rest).toEqual(expected);
      // The SDK adds each collection's sum to the last one's: the same but for the last bits.
      expect(sum).toBeCloseTo(reference!, 6);
      expect(rest.count).toBe(1000 * (round + 1));
    }
    await provider.shutdown();
  });
});

describe('StoreTimer', () => {
  it('records a call by its operation, a rejected one with error.type, and leaves calls alone without a timer', async () => {
    const producer = new SchedulerMetricProducer();
    const timer = new StoreTimer(producer, BOUNDARIES);
    expect(await timeStore(timer, 'claim', () => Promise.resolve([1]))).toEqual([1]);
    await expect(timeStore(timer, 'prune', () => Promise.reject(new RangeError('down')))).rejects.toThrow('down');
    timer.record('complete', timer.now());
    expect(await timeStore(null, 'claim', () => Promise.resolve('untimed'))).toBe('untimed');
    const metric = (await producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics[0] as HistogramMetricData;
    expect(metric.descriptor).toMatchObject({ name: 'scheduler.store.operation.duration', unit: 's' });
    expect(metric.dataPoints.map((p) => `${JSON.stringify(p.attributes)} ${p.value.count}`).sort()).toEqual([
      '{"db.operation.name":"claim"} 1',
      '{"db.operation.name":"complete"} 1',
      '{"db.operation.name":"prune","error.type":"RangeError"} 1',
    ]);
    expect(metric.dataPoints.every((p) => p.value.sum! >= 0)).toBe(true);
  });
});
