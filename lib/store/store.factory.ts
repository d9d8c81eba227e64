import type { StoreOption } from '../scheduler.options.js';
import type { JobStore } from './job-store.js';
import { MemoryStore } from './memory.store.js';
import type { MemoryStoreOptions, PostgresStoreOptions, StoreBundle, StoreContext } from './store-options.js';

/**
 * The store named by the `store` option. The PostgreSQL engine is loaded
 * only when asked for, so apps on the memory store need neither `typeorm`
 * nor `pg` installed.
 */
export async function createStore(option: StoreOption, context: StoreContext): Promise<StoreBundle> {
  if (option === 'memory') return { store: new MemoryStore() };
  if (typeof option === 'object' && 'type' in option && option.type === 'memory') {
    return { store: new MemoryStore({ maxPayloadBytes: (option as MemoryStoreOptions).maxPayloadBytes }) };
  }
  if (typeof option === 'object' && 'type' in option && option.type === 'postgres') {
    const { createPostgresBundle } = await import('../postgres/postgres.bundle.js');
    return createPostgresBundle(option as PostgresStoreOptions, context);
  }
  return { store: option as JobStore };
}
