import type { StoreOption } from '../scheduler.options.js';
import type { JobStore } from './job-store.js';
import { MemoryStore } from './memory.store.js';

/** The store named by the `store` option. */
export function createStore(option: StoreOption): JobStore {
  if (option === 'memory' || ('type' in option && option.type === 'memory')) return new MemoryStore();
  return option as JobStore;
}
