import type { NewJob } from '../../lib/store/job.types.js';

/** A store's input for one plain job, due at `runAt`, with `overrides`. */
export function newJobInput(runAt: Date, overrides: Partial<NewJob> = {}): NewJob {
  return { name: 'work', queue: 'default', args: {}, priority: 5, maxAttempts: 3, timeout: null, runAt, ...overrides };
}
