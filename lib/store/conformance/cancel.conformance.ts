import { DuplicateJobError } from '../../scheduler.errors.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: cancel, and resurrect of dead jobs.
 * @internal
 */
export function cancelConformance(suite: ConformanceSuite): void {
  const { BASE, at, ms, SEC, newJob, insert, claim, running, ref, attemptError, state, describe, it, expect } = suite;

  describe('cancel', () => {
    it('cancels an available job and returns it as it was', async () => {
      const job = await insert();
      const before = await suite.store.cancel(job.id, at(5 * SEC), 'not needed');
      expect(before).toMatchObject({ id: job.id, state: 'available', errors: [] });
      const cancelled = (await suite.store.get(job.id))!;
      expect(cancelled.state).toBe('cancelled');
      expect(ms(cancelled.finishedAt)).toBe(at(5 * SEC).getTime());
      expect(cancelled.errors).toHaveLength(1);
      expect(cancelled.errors[0]).toMatchObject({ kind: 'cancel', name: 'CancelledError', message: 'not needed', attempt: 0 });
      expect(ms(cancelled.errors[0]!.at)).toBe(at(5 * SEC).getTime());
      expect(await claim({ now: at(60 * SEC) })).toEqual([]);
    });

    it('cancels a running job', async () => {
      const job = await running();
      const before = await suite.store.cancel(job.id, at(SEC), 'stop');
      expect(before).toMatchObject({ state: 'running', attempt: 1 });
      const cancelled = (await suite.store.get(job.id))!;
      expect(cancelled.state).toBe('cancelled');
      expect(cancelled.errors[0]).toMatchObject({ kind: 'cancel', attempt: 1 });
    });

    it('returns null for final or unknown jobs', async () => {
      const job = await running();
      await suite.store.complete(ref(job), null, BASE);
      expect(await suite.store.cancel(job.id, BASE, 'late')).toBeNull();
      const cancelled = await insert();
      await suite.store.cancel(cancelled.id, BASE, 'once');
      expect(await suite.store.cancel(cancelled.id, BASE, 'twice')).toBeNull();
      expect((await suite.store.get(cancelled.id))!.errors).toHaveLength(1);
      expect(await suite.store.cancel('999999999', BASE, 'missing')).toBeNull();
    });
  });

  describe('resurrect', () => {
    it.each(['dead', 'discarded', 'cancelled'] as const)('brings a %s job back with fresh attempts', async (final) => {
      const job = await running({ maxAttempts: 1 });
      if (final === 'cancelled') await suite.store.cancel(job.id, BASE, 'x');
      else await suite.store.fail(ref(job), final, attemptError(1), BASE);

      const back = await suite.store.resurrect(job.id, at(60 * SEC));
      expect(back).toMatchObject({ id: job.id, state: 'available', attempt: 1, maxAttempts: 2, finishedAt: null });
      expect(ms(back!.runAt)).toBe(at(60 * SEC).getTime());
      expect(back!.errors).toHaveLength(1);
      expect(await suite.store.get(job.id)).toEqual(back);

      const [again] = await claim({ now: at(60 * SEC) });
      expect(again).toMatchObject({ id: job.id, attempt: 2 });
    });

    it('grants as many attempts as the job first had', async () => {
      const job = await insert({ maxAttempts: 3 });
      for (let attempt = 1; attempt <= 3; attempt++) {
        const [claimed] = await claim();
        if (attempt < 3) await suite.store.retry(ref(claimed!), BASE, attemptError(attempt));
        else await suite.store.fail(ref(claimed!), 'dead', attemptError(attempt), BASE);
      }
      const back = await suite.store.resurrect(job.id, BASE);
      expect(back).toMatchObject({ attempt: 3, maxAttempts: 6 });
    });

    it('grants the same number of attempts on every later resurrect, single or bulk', async () => {
      const job = await insert({ maxAttempts: 2 });
      const spend = async (from: number, to: number) => {
        for (let attempt = from; attempt <= to; attempt++) {
          const [claimed] = await claim();
          if (attempt < to) await suite.store.retry(ref(claimed!), BASE, attemptError(attempt));
          else await suite.store.fail(ref(claimed!), 'dead', attemptError(attempt), BASE);
        }
      };
      await spend(1, 2);
      expect(await suite.store.resurrect(job.id, BASE)).toMatchObject({ attempt: 2, maxAttempts: 4 });
      await spend(3, 4);
      // Two more, as the job first had: not as many as its last budget (4).
      expect(await suite.store.resurrect(job.id, BASE)).toMatchObject({ attempt: 4, maxAttempts: 6 });
      await spend(5, 6);
      const [bulk] = await suite.store.resurrectDead({}, 10, BASE);
      expect(bulk).toMatchObject({ id: job.id, attempt: 6, maxAttempts: 8 });
    });

    it('returns null for jobs that are not dead, discarded or cancelled', async () => {
      const available = await insert();
      const runningJob = await running();
      const completed = await running();
      await suite.store.complete(ref(completed), null, BASE);
      expect(await suite.store.resurrect(available.id, BASE)).toBeNull();
      expect(await suite.store.resurrect(runningJob.id, BASE)).toBeNull();
      expect(await suite.store.resurrect(completed.id, BASE)).toBeNull();
      expect(await suite.store.resurrect('999999999', BASE)).toBeNull();
      expect(await state(runningJob.id)).toBe('running');
    });

    it('refuses when another active job holds the unique key', async () => {
      const job = await running({ uniqueKey: 'u' });
      await suite.store.fail(ref(job), 'dead', attemptError(1), BASE);
      const holder = await insert({ uniqueKey: 'u' });
      await expect(suite.store.resurrect(job.id, BASE)).rejects.toBeInstanceOf(DuplicateJobError);
      expect(await state(job.id)).toBe('dead');

      await suite.store.cancel(holder.id, BASE, 'make room');
      expect(await suite.store.resurrect(job.id, BASE)).toMatchObject({ state: 'available' });
      const [dup] = await suite.store.insert([newJob({ uniqueKey: 'u' })]);
      expect(dup).toMatchObject({ inserted: false, conflict: 'unique' });
      expect(dup!.job.id).toBe(job.id);
    });
  });
}
