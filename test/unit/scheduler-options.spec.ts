import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../lib/scheduler.options.js';
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
