import { readFileSync } from 'node:fs';
import { metrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_VERSION } from '../../../lib/scheduler.constants.js';
import { errorType, JobNames } from '../../../lib/telemetry/metrics/metric-attributes.js';
import { MetricsPlugin, schedulerMeter, type MetricsPorts } from '../../../lib/telemetry/metrics/metrics.plugin.js';
import { resolveMetricsOptions } from '../../../lib/telemetry/metrics/metrics.options.js';
import { SchedulerEvents } from '../../../lib/telemetry/scheduler.events.js';
import { JobAbortedError } from '../../../lib/index.js';
import { points, testMetrics } from '../../support/metrics.js';
import { FakeClock } from '../../../lib/testing/index.js';
import { QueueStatsReader } from '../../../lib/health/queue-stats.reader.js';

const fail = (option: string, detail: string): never => {
  throw new Error(`${option}: ${detail}`);
};

/** A store read through the real reader: counts, a paused state and the oldest due job (at 400 ms); `reads` counts its count queries. */
function statsStore() {
  const store = {
    reads: 0,
    queueCounts: async () => {
      store.reads++;
      return [{ queue: 'default', available: 3, scheduled: 0, running: 1, completed: 9, dead: 2, discarded: 0, cancelled: 0 }];
    },
    getQueueStates: async () => [{ name: 'default', paused: true, concurrency: null }],
    nextRunAt: async () => new Date(400),
  };
  return store;
}

function ports(events: SchedulerEvents, leader: { value: boolean }, overrides: Partial<MetricsPorts['options']> = {}): MetricsPorts {
  const clock = new FakeClock(1_000);
  return {
    options: { ...resolveMetricsOptions({}, fail), ...overrides },
    events,
    now: () => 0,
    queueStats: new QueueStatsReader({ store: statsStore(), clock, knownQueues: () => ['default', 'idle'] }),
    isLeader: () => leader.value,
    localQueues: () => [{ queue: 'default', limit: 4, executing: 1 }],
  };
}

describe('MetricsPlugin', () => {
  afterEach(() => metrics.disable());

  it('with no SDK registered (the API’s no-op meter) subscribes to nothing and adds no task', () => {
    const events = new SchedulerEvents();
    const p = ports(events, { value: true });
    expect(schedulerMeter(p.options, PACKAGE_VERSION)).toBeNull();
    const plugin = new MetricsPlugin(p, schedulerMeter(p.options, PACKAGE_VERSION));
    expect(plugin.recording).toBe(false);
    expect(plugin.attempts).toBeNull();
    expect(plugin.storeTimer).toBeNull();
    expect(plugin.tasks()).toEqual([]);
    for (const event of ['job:start', 'job:stop', 'job:exception', 'job:discard', 'job:cancel', 'job:rescue'] as const) expect(events.has(event)).toBe(false);
  });

  it('reports the cluster-wide queue gauges only while leader, after its first stats read; node gauges always', async () => {
    const m = testMetrics();
    const leader = { value: false };
    const events = new SchedulerEvents();
    const options = resolveMetricsOptions({ meterProvider: m.provider }, fail);
    const plugin = new MetricsPlugin({ ...ports(events, leader), options }, schedulerMeter(options, PACKAGE_VERSION));
    expect(plugin.recording).toBe(true);
    // Starts and completions are told by the executor (plugin.attempts); the other ends come from events.
    expect(plugin.attempts).not.toBeNull();
    expect(events.has('job:exception')).toBe(true);
    const [task] = plugin.tasks();
    expect(task!.nextAt(1_000)).toBeNull();
    let all = await m.collect();
    expect(all.has('scheduler.queue.jobs')).toBe(false);
    expect(points(all.get('scheduler.queue.limit'))[0]?.value).toBe(4);
    expect(points(all.get('scheduler.leader'))[0]?.value).toBe(0);

    leader.value = true;
    expect(task!.nextAt(1_000)).toBe(1_000); // at once on becoming leader
    all = await m.collect();
    expect(all.has('scheduler.queue.jobs')).toBe(false); // nothing read yet: no false zeros
    await task!.run(1_000);
    expect(task!.nextAt(2_000)).toBe(16_000);
    all = await m.collect();
    const show = (name: string, attribute: string) =>
      points(all.get(name)).map((p) => `${String(p.attributes['scheduler.queue'])}${attribute ? ` ${String(p.attributes[attribute])}` : ''} ${p.value}`);
    // Every known queue, zero-filled: `idle` has no job.
    expect(show('scheduler.queue.jobs', 'scheduler.job.state')).toEqual([
      'default available 3',
      'default scheduled 0',
      'default executing 1',
      'default dead 2',
      'idle available 0',
      'idle scheduled 0',
      'idle executing 0',
      'idle dead 0',
    ]);
    expect(show('scheduler.queue.paused', '')).toEqual(['default 1', 'idle 0']);
    // The oldest due job of `default` was due at 400 ms, read at 1 000 ms.
    expect(show('scheduler.queue.lag', '')).toEqual(['default 0.6', 'idle 0']);

    await plugin.stop();
    expect(events.has('job:exception')).toBe(false);
    await m.shutdown();
  });

  it('keeps PACKAGE_VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(PACKAGE_VERSION).toBe(pkg.version);
  });
});

describe('metric attributes', () => {
  it('caps distinct job names', () => {
    const names = new JobNames(2);
    expect(['a', 'b', 'c', 'a', 'd', 'b'].map((n) => names.of(n))).toEqual(['a', 'b', '_other', 'a', '_other', 'b']);
  });

  it('names an error by class, never by message; timeouts and lost leases by kind', () => {
    expect(errorType(new TypeError('secret 42'), 'error')).toBe('TypeError');
    expect(errorType(new JobAbortedError('timeout'), 'timeout')).toBe('timeout');
    expect(errorType(new Error('x'), 'lease-lost')).toBe('lease_lost');
    expect(errorType('just a string', 'error')).toBe('string');
  });
});
