import { MemoryStore } from '../../lib/store/memory.store.js';
import { runStoreConformance } from './store.conformance.js';

runStoreConformance('memory', async (options = {}) => ({ store: new MemoryStore(options), cleanup: async () => {} }));
