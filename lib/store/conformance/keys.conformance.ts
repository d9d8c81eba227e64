import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: tick and unique keys over a job's life.
 * @internal
 */
export function keysConformance(suite: ConformanceSuite): void {
  const { BASE, newJob, insert, claim, running, ref, attemptError, describe, it, expect } = suite;

  describe('keys', () => {
    it('keeps a tick key unique for as long as the job exists', async () => {
      const job = await running({ tickKey: 'nightly@2026-01-01' });
      const [dup] = await suite.store.insert([newJob({ tickKey: 'nightly@2026-01-01' })]);
      expect(dup).toMatchObject({ inserted: false, conflict: 'tick' });
      expect(dup!.job.id).toBe(job.id);

      await suite.store.complete(ref(job), null, BASE);
      const [afterComplete] = await suite.store.insert([newJob({ tickKey: 'nightly@2026-01-01' })]);
      expect(afterComplete).toMatchObject({ inserted: false, conflict: 'tick' });
      expect(afterComplete!.job.id).toBe(job.id);

      expect(await suite.store.delete([job.id])).toBe(1);
      const [afterDelete] = await suite.store.insert([newJob({ tickKey: 'nightly@2026-01-01' })]);
      expect(afterDelete!.inserted).toBe(true);
    });

    it('keeps a unique key unique among available and running jobs only', async () => {
      const job = await insert({ uniqueKey: 'u' });
      const [whileAvailable] = await suite.store.insert([newJob({ uniqueKey: 'u' })]);
      expect(whileAvailable).toMatchObject({ inserted: false, conflict: 'unique' });
      expect(whileAvailable!.job.id).toBe(job.id);

      const [claimed] = await claim();
      const [whileRunning] = await suite.store.insert([newJob({ uniqueKey: 'u' })]);
      expect(whileRunning).toMatchObject({ inserted: false, conflict: 'unique' });

      await suite.store.retry(ref(claimed!), BASE, attemptError(1));
      const [whileRetrying] = await suite.store.insert([newJob({ uniqueKey: 'u' })]);
      expect(whileRetrying).toMatchObject({ inserted: false, conflict: 'unique' });

      const [again] = await claim();
      await suite.store.complete(ref(again!), null, BASE);
      const next = await insert({ uniqueKey: 'u' });
      expect(next.id).not.toBe(job.id);
    });

    it('frees a unique key when the job fails, is cancelled or deleted', async () => {
      const dead = await running({ uniqueKey: 'dead' });
      await suite.store.fail(ref(dead), 'dead', attemptError(1), BASE);
      await insert({ uniqueKey: 'dead' });

      const discarded = await running({ uniqueKey: 'discarded' });
      await suite.store.fail(ref(discarded), 'discarded', attemptError(1), BASE);
      await insert({ uniqueKey: 'discarded' });

      const cancelled = await insert({ uniqueKey: 'cancelled' });
      await suite.store.cancel(cancelled.id, BASE, 'no');
      await insert({ uniqueKey: 'cancelled' });

      const deleted = await insert({ uniqueKey: 'deleted' });
      await suite.store.delete([deleted.id]);
      await insert({ uniqueKey: 'deleted' });
    });

    it('checks keys against jobs earlier in the same batch', async () => {
      const results = await suite.store.insert([
        newJob({ tickKey: 't' }),
        newJob({ tickKey: 't' }),
        newJob({ uniqueKey: 'u' }),
        newJob({ uniqueKey: 'u' }),
        newJob({ serialKey: 's' }),
        newJob({ serialKey: 's' }),
      ]);
      expect(results.map((r) => r.inserted)).toEqual([true, false, true, false, true, false]);
      expect(results.map((r) => r.conflict)).toEqual([undefined, 'tick', undefined, 'unique', undefined, 'serial']);
      expect(results[1]!.job.id).toBe(results[0]!.job.id);
      expect(results[3]!.job.id).toBe(results[2]!.job.id);
      expect(results[5]!.job.id).toBe(results[4]!.job.id);
      expect(await suite.store.count({})).toBe(3);
    });
  });
}
