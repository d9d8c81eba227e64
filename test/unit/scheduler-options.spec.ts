import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../lib/scheduler.options.js';
import { SchedulerConfigError } from '../../lib/scheduler.errors.js';
import { MemoryStore } from '../../lib/store/memory.store.js';

const prefetchOf = (options: Parameters<typeof resolveOptions>[0]): number | undefined => resolveOptions(options).queues?.get('default')?.prefetch;

describe('resolveOptions: prefetch', () => {
  it('defaults to 1000 with the PostgreSQL store and 500 with any other', () => {
    expect(prefetchOf({ store: { type: 'postgres', url: 'postgres://localhost/x' } })).toBe(1000);
    expect(prefetchOf({ store: { type: 'postgres', url: 'postgres://localhost/x' }, queues: { default: { concurrency: 5 } } })).toBe(1000);
    expect(prefetchOf({})).toBe(500);
    expect(prefetchOf({ store: 'memory', queues: { default: 5 } })).toBe(500);
    expect(prefetchOf({ store: new MemoryStore() })).toBe(500);
  });

  it('keeps a given prefetch, 0 included', () => {
    expect(prefetchOf({ store: { type: 'postgres', url: 'postgres://localhost/x' }, queues: { default: { concurrency: 5, prefetch: 0 } } })).toBe(0);
    expect(prefetchOf({ queues: { default: { concurrency: 5, prefetch: 2000 } } })).toBe(2000);
  });
});

describe('resolveOptions: lifeline', () => {
  it('rescues a dead node’s jobs within 60 s of their last heartbeat by default (rescueAfter + one sweep)', () => {
    const { heartbeatInterval, rescueAfter, rescueInterval } = resolveOptions({});
    expect({ heartbeatInterval, rescueAfter, rescueInterval }).toEqual({ heartbeatInterval: 10_000, rescueAfter: 45_000, rescueInterval: 15_000 });
    expect(rescueAfter + rescueInterval).toBeLessThanOrEqual(75_000);
  });

  it('refuses a rescueAfter shorter than two heartbeats', () => {
    expect(() => resolveOptions({ lifeline: { heartbeat: '10s', rescueAfter: '15s' } })).toThrow(/lifeline\.rescueAfter.*at least twice lifeline\.heartbeat/);
    expect(resolveOptions({ lifeline: { heartbeat: '10s', rescueAfter: '20s' } }).rescueAfter).toBe(20_000);
  });
});

describe('resolveOptions: defaults and errors', () => {
  it("applies seed 003's job defaults: 5 minutes, 3 retries, exponential backoff from 1 s", () => {
    const { defaults } = resolveOptions({});
    expect({ timeout: defaults.timeout, maxRetries: defaults.maxRetries, backoff: defaults.backoffOption }).toEqual({
      timeout: 300_000,
      maxRetries: 3,
      backoff: { type: 'exponential', delay: '1s', max: '1h', factor: 2, jitter: true },
    });
    expect(defaults.backoff(1, null)).toBeGreaterThanOrEqual(800);
    expect(defaults.backoff(1, null)).toBeLessThanOrEqual(1_200);
  });

  it('takes timeout false for none, a fixed backoff, and 0 retries', () => {
    const { defaults } = resolveOptions({ defaults: { timeout: false, maxRetries: 0, backoff: { type: 'fixed', delay: '2s' } } });
    expect({ timeout: defaults.timeout, maxRetries: defaults.maxRetries, delay: defaults.backoff(5, null) }).toEqual({
      timeout: null,
      maxRetries: 0,
      delay: 2_000,
    });
  });

  it.each([
    [{ defaults: { timeout: 0 } }, /defaults\.timeout.*greater than zero/],
    [{ defaults: { timeout: 'soon' } }, /defaults\.timeout/],
    [{ defaults: { maxRetries: -1 } }, /defaults\.maxRetries.*non-negative integer/],
    [{ defaults: { maxRetries: 1.5 } }, /defaults\.maxRetries/],
    [{ defaults: { backoff: { type: 'linear', delay: '1s' } } }, /defaults\.backoff\.type/],
    [{ defaults: { backoff: { type: 'exponential', delay: '1m', max: '1s' } } }, /defaults\.backoff\.max/],
    [{ defaults: { retries: 3 } }, /defaults\.retries.*not a job default/],
    [{ defaults: 5 }, /"defaults": must be an object/],
    [{ errors: { classify: 'terminal' } }, /errors\.classify.*must be a function/],
    [{ errors: { rules: [] } }, /errors\.rules.*not an errors option/],
  ])('refuses %j with a SchedulerConfigError', (options, message) => {
    let thrown: unknown;
    try {
      resolveOptions(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SchedulerConfigError);
    expect((thrown as Error).message).toMatch(message);
  });
});

describe('resolveOptions: queue names', () => {
  it('refuses a configured queue name no job could be stored under (U+0000, a lone surrogate, over 200 characters)', () => {
    for (const name of ['a\u0000b', 'a\uD800', 'q'.repeat(201)]) {
      expect(() => resolveOptions({ queues: { [name]: 5 } })).toThrow(SchedulerConfigError);
      expect(() => resolveOptions({ queues: { [name]: 5 } })).toThrow(/queues\./);
    }
    expect(resolveOptions({ queues: { 'mail:eu{1}': 5 } }).queues?.has('mail:eu{1}')).toBe(true);
  });
});

describe('resolveOptions: node name, clock and enabled', () => {
  const refused = (options: object): SchedulerConfigError => {
    try {
      resolveOptions(options as never);
    } catch (error) {
      expect(error).toBeInstanceOf(SchedulerConfigError);
      return error as SchedulerConfigError;
    }
    throw new Error('accepted');
  };

  it('refuses a nodeName no store could keep, as SCHEDULER_INSTANCE_ID is refused', () => {
    expect(resolveOptions({ nodeName: 'worker-1' }).nodeName).toBe('worker-1');
    expect(resolveOptions({}).nodeName).toMatch(/-\d+-[0-9a-f]{6}$/);
    for (const nodeName of ['', 'x'.repeat(201), 'a\u0000b', 'a\nb', 'a\ud800', 42, Symbol('n')]) expect(refused({ nodeName }).option).toBe('nodeName');
  });

  it('refuses a clock that is not one (it would fail at the first timer, after bootstrap) and an enabled that is not a boolean', () => {
    const { clock } = resolveOptions({});
    expect(typeof clock.now()).toBe('number');
    for (const value of [null, 42, 'now', {}, { now: () => 0 }]) expect(refused({ clock: value }).message).toMatch(/must be a Clock/);
    expect(refused({ enabled: 'yes' }).option).toBe('enabled');
    expect(resolveOptions({ enabled: false }).enabled).toBe(false);
  });
});
