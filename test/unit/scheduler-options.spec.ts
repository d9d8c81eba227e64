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
