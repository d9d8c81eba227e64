import { MemoryStore } from '../../lib/store/memory.store.js';
import { runStoreConformance } from './store.conformance.js';

runStoreConformance('memory', async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
