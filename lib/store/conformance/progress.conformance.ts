import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: the progress of a running attempt (`saveProgress`), fenced by
 * its attempt and kept once the job ends.
 * @internal
 */
export function progressConformance(suite: ConformanceSuite): void {
  const { BASE, at, SEC, insert, claim, running, ref, attemptError, describe, it, expect } = suite;

  describe('progress', () => {
    it('is null until an attempt reports it; a running attempt records a number or an object, shown by get, list and the next claim', async () => {
      const job = await running();
      expect(job.progress).toBeNull();
      expect(await suite.store.saveProgress(ref(job), 40)).toBe(true);
      expect((await suite.store.get(job.id))?.progress).toBe(40);
      const detail = { done: 3, of: 7, stage: 'upload' };
      expect(await suite.store.saveProgress(ref(job), detail)).toBe(true);
      detail.done = 99;
      expect((await suite.store.get(job.id))?.progress).toEqual({ done: 3, of: 7, stage: 'upload' });
      expect((await suite.store.list({ states: ['running'] }))[0]?.progress).toEqual({ done: 3, of: 7, stage: 'upload' });

      // Kept across a retry: the next attempt is handed the last progress.
      await suite.store.retry(ref(job), at(SEC), attemptError(1));
      const [again] = await claim({ now: at(2 * SEC) });
      expect(again?.progress).toEqual({ done: 3, of: 7, stage: 'upload' });
    });

    it('is refused (false, nothing written) for a stale attempt, a job not running, an unknown id', async () => {
      const job = await running();
      expect(await suite.store.saveProgress({ id: job.id, attempt: job.attempt + 1 }, 10)).toBe(false);
      expect(await suite.store.saveProgress({ id: job.id, attempt: job.attempt - 1 }, 10)).toBe(false);
      const waiting = await insert({ runAt: at(60 * SEC) });
      expect(await suite.store.saveProgress({ id: waiting.id, attempt: 0 }, 10)).toBe(false);
      expect(await suite.store.saveProgress({ id: '987654321', attempt: 1 }, 10)).toBe(false);
      expect(await suite.store.saveProgress({ id: 'not-an-id', attempt: 1 }, 10)).toBe(false);
      expect((await suite.store.get(job.id))?.progress).toBeNull();
      expect((await suite.store.get(waiting.id))?.progress).toBeNull();
    });

    it('stays on the job once it completes, dies or is cancelled, and is refused after', async () => {
      const done = await running();
      await suite.store.saveProgress(ref(done), 100);
      await suite.store.complete(ref(done), { ok: true }, BASE);
      expect(await suite.store.saveProgress(ref(done), 5)).toBe(false);
      expect((await suite.store.get(done.id))?.progress).toBe(100);

      const dead = await running({ maxAttempts: 1 });
      await suite.store.saveProgress(ref(dead), { step: 'charge' });
      await suite.store.fail(ref(dead), 'dead', attemptError(1), BASE);
      expect((await suite.store.get(dead.id))?.progress).toEqual({ step: 'charge' });

      const cancelled = await running();
      await suite.store.saveProgress(ref(cancelled), 12.5);
      await suite.store.cancel(cancelled.id, BASE, 'no longer needed');
      expect(await suite.store.saveProgress(ref(cancelled), 50)).toBe(false);
      expect((await suite.store.get(cancelled.id))?.progress).toBe(12.5);
    });
  });
}
