import { Injectable } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscardJobError, MemoryStore, Scheduled, SchedulerConfigError, type Job, type JobContext } from '../../lib/index.js';
import { bootstrapError, startApp, type TestApp } from '../support/app.js';
import { Gate } from '../support/gate.job.js';
import { points, testMetrics, type TestMetrics } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';

@Injectable()
class Work {
  @Scheduled({ name: 'ok' })
  ok() {}
  @Scheduled({ name: 'flaky', maxRetries: 1, backoff: 1_000 })
  flaky(ctx: JobContext) {
    throw new TypeError(`boom ${ctx.attempt}`);
  }
  @Scheduled({ name: 'bye' })
  bye() {
    throw new DiscardJobError('not wanted');
  }
}

@Injectable()
class Ticks {
  @Scheduled({ name: 'beat', every: '10s' })
  beat() {}
}

const attempt = (p: { attributes: Record<string, unknown> }) =>
  `${String(p.attributes['scheduler.job.name'])} ${String(p.attributes['scheduler.job.outcome'])}${p.attributes['error.type'] ? ` ${String(p.attributes['error.type'])}` : ''}`;

describe.each(['meter', 'producer'] as const)('OpenTelemetry metrics (a real SDK MeterProvider, memory store), histograms kept by the %s', (mode) => {
  let m: TestMetrics;
  let t: TestApp | undefined;
  beforeEach(() => {
    m = testMetrics(mode);
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    metrics.disable();
    await m.shutdown();
  });

  it('records each attempt by outcome (error.type on failures), queue times, and attempts once a job ends for good', async () => {
    t = await startApp([Work], { metrics: { ...m.options } });
    // Queued while the queue is paused: each waits 250 ms before its first attempt.
    await t.scheduler.pauseQueue('default');
    await t.scheduler.enqueue('ok', {});
    await t.scheduler.enqueue('flaky', {});
    await t.scheduler.enqueue('bye', {});
    await t.clock.advance(250);
    await t.scheduler.resumeQueue('default');
    await t.tester.drainQueue();
    await t.clock.advance(2_000);
    await t.tester.drainQueue();
    const all = await m.collect();

    const durations = points(all.get('scheduler.job.duration'));
    expect(durations.map(attempt).sort()).toEqual(['bye discard', 'flaky dead TypeError', 'flaky retry TypeError', 'ok success']);
    expect(durations.every((p) => p.value === 1 && p.attributes['scheduler.queue'] === 'default')).toBe(true);
    expect(all.get('scheduler.job.duration')!.descriptor.unit).toBe('s');

    // Four starts: three first attempts that waited 250 ms each, and flaky's retry.
    const waits = points(all.get('scheduler.job.queue_time'));
    expect(waits.reduce((n, p) => n + p.value, 0)).toBe(4);
    expect(waits.find((p) => p.attributes['scheduler.job.name'] === 'ok')!.sum).toBeCloseTo(0.25, 5);

    const attempts = points(all.get('scheduler.job.attempts'));
    expect(attempts.map((p) => `${attempt(p)}: ${p.sum}`).sort()).toEqual(['bye discard: 1', 'flaky dead: 2', 'ok success: 1']);

    // The histograms came from the producer in that mode, and from the meter otherwise.
    const produced = m.producer ? (await m.producer.collect()).resourceMetrics.scopeMetrics[0]!.metrics.map((d) => d.descriptor.name) : [];
    expect(produced.sort()).toEqual(
      mode === 'producer' ? ['scheduler.job.attempts', 'scheduler.job.duration', 'scheduler.job.queue_time', 'scheduler.store.operation.duration'] : [],
    );
  });

  it('reports queue gauges from the leader, every known queue × state zero-filled, with the node’s limit, running jobs and leadership', async () => {
    t = await startApp([Gate], { queues: { default: 2, reports: 1 }, metrics: { ...m.options, queueStatsInterval: '10s' } });
    await t.scheduler.enqueue('gate', { id: 'a' });
    await t.scheduler.enqueue('gate', { id: 'later' }, { delay: '1h' });
    await waitFor(() => t!.get(Gate).started.includes('a'), 5_000, 'job a to start');
    await t.clock.advance('10s'); // the leader's stats read
    const all = await m.collect();
    const jobs = points(all.get('scheduler.queue.jobs')).map(
      (p) => `${String(p.attributes['scheduler.queue'])} ${String(p.attributes['scheduler.job.state'])} ${p.value}`,
    );
    expect(jobs.sort()).toEqual([
      'default available 0',
      'default dead 0',
      'default executing 1',
      'default scheduled 1',
      'reports available 0',
      'reports dead 0',
      'reports executing 0',
      'reports scheduled 0',
    ]);
    expect(points(all.get('scheduler.queue.paused')).map((p) => p.value)).toEqual([0, 0]);
    expect(
      points(all.get('scheduler.queue.limit'))
        .map((p) => `${String(p.attributes['scheduler.queue'])} ${p.value}`)
        .sort(),
    ).toEqual(['default 2', 'reports 1']);
    expect(points(all.get('scheduler.jobs.executing')).find((p) => p.attributes['scheduler.queue'] === 'default')?.value).toBe(1);
    expect(points(all.get('scheduler.leader')).map((p) => p.value)).toEqual([1]);
    t.get(Gate).release('a');
  });

  it('times store calls by operation (error.type when one rejects), and reports each queue’s lag from the shared reading', async () => {
    class RescueDown extends MemoryStore {
      override rescue(): Promise<Job[]> {
        return Promise.reject(new RangeError('rescue down'));
      }
    }
    const store = new RescueDown();
    t = await startApp([Work], {
      store: { store, peer: 'local', notifier: 'local' },
      lifeline: { interval: '15s' },
      metrics: { ...m.options, queueStatsInterval: '10s' },
    });
    await t.scheduler.enqueue('ok', {});
    await t.scheduler.enqueue('ok', {});
    await t.tester.drainQueue();
    await t.scheduler.pauseQueue('default');
    await t.scheduler.enqueue('ok', {}); // due now, and waits: the queue is paused
    await t.clock.advance('20s'); // one rescue pass (rejected); stats read at 10 s and 20 s
    const all = await m.collect();
    const operations = points(all.get('scheduler.store.operation.duration'));
    const count = (name: string, error?: string) =>
      operations.find((p) => p.attributes['db.operation.name'] === name && p.attributes['error.type'] === error)?.value ?? 0;
    expect([count('enqueue'), count('complete'), count('rescue', 'RangeError')]).toEqual([3, 2, 1]);
    expect(count('claim')).toBeGreaterThanOrEqual(1); // one claim or more, as the runner's turns fell
    expect(operations.every((p) => p.sum !== undefined && p.sum >= 0)).toBe(true);
    // The job waited 20 s when the leader last read the queues; the health report shows the same reading.
    expect(points(all.get('scheduler.queue.lag')).map((p) => `${String(p.attributes['scheduler.queue'])} ${p.value}`)).toEqual(['default 20']);
    expect((await t.scheduler.health({ checks: ['loop'] })).queues).toEqual([{ queue: 'default', lagMs: 20_000, available: 1, paused: true, runners: 1 }]);
  });

  it('leaves the store untimed with storeOperations: false', async () => {
    t = await startApp([Work], { metrics: { ...m.options, storeOperations: false } });
    await t.scheduler.enqueue('ok', {});
    await t.tester.drainQueue();
    const all = await m.collect();
    expect(points(all.get('scheduler.job.duration'))).toHaveLength(1);
    expect(all.has('scheduler.store.operation.duration')).toBe(false);
  });

  it('counts enqueued jobs by source, and schedule ticks (fired, paused) with their lateness', async () => {
    t = await startApp([Work, Ticks], { metrics: { ...m.options } });
    await t.scheduler.enqueue('ok', {});
    await t.clock.advance('30s');
    await t.tester.drainQueue();
    await t.scheduler.pauseJob('beat');
    await t.clock.advance('20s');
    const all = await m.collect();
    const enqueued = points(all.get('scheduler.job.enqueued')).map(
      (p) => `${String(p.attributes['scheduler.job.name'])} ${String(p.attributes['scheduler.job.source'])} ${p.value}`,
    );
    expect(enqueued.sort()).toEqual(['beat interval 3', 'ok api 1']);
    const ticks = points(all.get('scheduler.schedule.ticks')).map(
      (p) => `${String(p.attributes['scheduler.schedule.name'])} ${String(p.attributes['scheduler.tick.outcome'])} ${p.value}`,
    );
    expect(ticks.sort()).toEqual(['beat fired 3', 'beat paused 2']);
    // Each tick was inserted when the fake clock reached it: 0 s late.
    expect(points(all.get('scheduler.schedule.lateness'))[0]).toMatchObject({ value: 3, sum: 0, attributes: { 'scheduler.schedule.name': 'beat' } });
  });

  it('caps job names at maxJobNames (then `_other`), and leaves out what attributes: false turns off', async () => {
    t = await startApp([Work], { metrics: { ...m.options, maxJobNames: 1, attributes: { errorType: false } } });
    await t.scheduler.enqueue('ok', {});
    await t.tester.drainQueue();
    await t.scheduler.enqueue('bye', {});
    await t.scheduler.enqueue('flaky', {});
    await t.tester.drainQueue();
    const names = points((await m.collect()).get('scheduler.job.duration')).map(attempt);
    expect(names.sort()).toEqual(['_other discard', '_other retry', 'ok success']);
  });

  it("semconv 'messaging' records messaging.process.duration and consumed messages instead of scheduler.job.duration", async () => {
    t = await startApp([Work], { metrics: { ...m.options, semconv: 'messaging' } });
    await t.scheduler.enqueue('ok', {});
    await t.tester.drainQueue();
    const all = await m.collect();
    expect(all.has('scheduler.job.duration')).toBe(false);
    expect(points(all.get('messaging.process.duration'))[0]).toMatchObject({
      value: 1,
      attributes: { 'messaging.system': 'nestjs-scheduler', 'messaging.destination.name': 'default', 'messaging.operation.name': 'process' },
    });
    expect(points(all.get('messaging.client.consumed.messages'))[0]?.value).toBe(1);
  });

  it('uses the global provider when none is given, and creates nothing when metrics are disabled', async () => {
    metrics.setGlobalMeterProvider(m.provider);
    const { producer } = m.options;
    t = await startApp([Work], producer ? { metrics: { producer } } : {});
    await t.scheduler.enqueue('ok', {});
    await t.tester.drainQueue();
    expect(points((await m.collect()).get('scheduler.job.duration'))).toHaveLength(1);
    await t.close();

    const off = testMetrics(mode);
    t = await startApp([Work], { metrics: { ...off.options, enabled: false } });
    await t.scheduler.enqueue('ok', {});
    await t.tester.drainQueue();
    expect((await off.collect()).size).toBe(0);
    await off.shutdown();
  });

  it('refuses bad metrics options at bootstrap', async () => {
    for (const [metricsOptions, pattern] of [
      [{ semconv: 'otel' }, /metrics\.semconv/],
      [{ buckets: [1, 0.5] }, /metrics\.buckets/],
      [{ queueStatsInterval: 'soon' }, /metrics\.queueStatsInterval/],
      [{ maxJobNames: -1 }, /metrics\.maxJobNames/],
      [{ meterProvider: {} }, /metrics\.meterProvider/],
      [{ storeOperations: 'yes' }, /metrics\.storeOperations/],
      [{ producer: { collect: () => null } }, /metrics\.producer/],
    ] as const) {
      const error = await bootstrapError([], { metrics: metricsOptions as never });
      expect(error).toBeInstanceOf(SchedulerConfigError);
      expect(String(error)).toMatch(pattern);
    }
  });
});
