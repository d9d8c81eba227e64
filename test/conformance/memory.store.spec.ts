import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore, runStoreConformance } from '../../lib/store/index.js';

// Through the shipped entry (nestjs-scheduler/store), as a store author runs it.
runStoreConformance({ describe, it, expect, beforeEach, afterEach }, 'memory', async (options = {}) => ({
  store: new MemoryStore(options),
  cleanup: async () => {},
}));
