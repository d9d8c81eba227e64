import { StaleAttemptError } from '../../scheduler.errors.js';
import { FREE_HANDBACKS, type AttemptRef } from '../job-store.js';
import type { Job } from '../job.types.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: acknowledgements (complete, retry, fail, release), fenced by the attempt.
 * @internal
 */
export function acksConformance(suite: ConformanceSuite): void {
  const { BASE, at, ms, SEC, newJob, insert, claim, running, ref, attemptError, state, ids, describe, it, expect } = suite;

  describe('acknowledgements', () => {
    type Ack = 'complete' | 'retry' | 'fail' | 'release';
    const ACKS: Ack[] = ['complete', 'retry', 'fail', 'release'];
    const acknowledge = (kind: Ack, target: AttemptRef): Promise<void> => {
      switch (kind) {
        case 'complete':
          return suite.store.complete(target, { ok: true }, at(SEC));
        case 'retry':
          return suite.store.retry(target, at(SEC), attemptError(target.attempt));
        case 'fail':
          return suite.store.fail(target, 'dead', attemptError(target.attempt), at(SEC));
        case 'release':
          return suite.store.release(target, at(SEC), attemptError(target.attempt, { kind: 'shutdown' }));
      }
    };

    const expectStale = async (kind: Ack, target: AttemptRef): Promise<void> => {
      const before = await suite.store.get(target.id);
      const rejection = acknowledge(kind, target);
      await expect(rejection).rejects.toBeInstanceOf(StaleAttemptError);
      await expect(rejection).rejects.toMatchObject({ jobId: target.id, attempt: target.attempt });
      expect(await suite.store.get(target.id)).toEqual(before);
    };

    it.each(ACKS)('%s with the wrong attempt is stale and changes nothing', async (kind) => {
      const job = await running();
      await expectStale(kind, { id: job.id, attempt: job.attempt + 1 });
      await expectStale(kind, { id: job.id, attempt: job.attempt - 1 });
    });

    it.each(ACKS)('%s of a job that is not running is stale', async (kind) => {
      const available = await insert();
      await expectStale(kind, { id: available.id, attempt: 0 });
      const completed = await running();
      await suite.store.complete(ref(completed), null, BASE);
      await expectStale(kind, ref(completed));
      const deleted = await running();
      await suite.store.delete([deleted.id]);
      await expect(acknowledge(kind, ref(deleted))).rejects.toBeInstanceOf(StaleAttemptError);
    });

    it.each(ACKS)('%s after a cancel is stale', async (kind) => {
      const job = await running();
      await suite.store.cancel(job.id, BASE, 'user');
      await expectStale(kind, ref(job));
    });

    it.each(ACKS)('%s after a rescue is stale, also once the job is claimed again', async (kind) => {
      const job = await running({}, BASE);
      const rescued = await suite.store.rescue(at(60 * SEC), at(60 * SEC));
      expect(ids(rescued)).toEqual([job.id]);
      await expectStale(kind, ref(job));
      const [again] = await claim({ now: at(60 * SEC) });
      expect(again!.attempt).toBe(job.attempt + 1);
      await expectStale(kind, ref(job));
      expect(await state(job.id)).toBe('running');
    });

    it('complete stores the result and the finish time', async () => {
      const job = await running();
      const result = { sent: 3, ids: ['a', 'b'] };
      await suite.store.complete(ref(job), result, at(5 * SEC));
      result.ids.push('c');
      const done = (await suite.store.get(job.id))!;
      expect(done).toMatchObject({ state: 'completed', result: { sent: 3, ids: ['a', 'b'] }, attempt: 1 });
      expect(ms(done.finishedAt)).toBe(at(5 * SEC).getTime());
    });

    it('complete with forget deletes the job, fenced like every ack, and frees its unique key', async () => {
      const job = await running({ uniqueKey: 'u-1' });
      await expect(suite.store.complete({ id: job.id, attempt: job.attempt + 1 }, null, BASE, { forget: true })).rejects.toBeInstanceOf(StaleAttemptError);
      expect(await state(job.id)).toBe('running');
      await suite.store.complete(ref(job), { ignored: true }, BASE, { forget: true });
      expect(await suite.store.get(job.id)).toBeNull();
      await expect(suite.store.complete(ref(job), null, BASE, { forget: true })).rejects.toBeInstanceOf(StaleAttemptError);
      const [again] = await suite.store.insert([newJob({ uniqueKey: 'u-1' })]);
      expect(again!.inserted).toBe(true);
    });

    it('completions kept and forgotten in the same instant are each written as asked', async () => {
      const kept = await running();
      const gone = await running();
      await Promise.all([suite.store.complete(ref(kept), 1, BASE), suite.store.complete(ref(gone), 2, BASE, { forget: true })]);
      expect(await state(kept.id)).toBe('completed');
      expect(await suite.store.get(gone.id)).toBeNull();
    });

    it('complete accepts a null result', async () => {
      const job = await running();
      await suite.store.complete(ref(job), null, BASE);
      expect((await suite.store.get(job.id))!.result).toBeNull();
    });

    it('retry makes the job available again at runAt and records the error', async () => {
      const job = await running();
      const error = attemptError(1, { stack: 'Error: failure 1\n    at x', name: 'TypeError' });
      await suite.store.retry(ref(job), at(30 * SEC), error);
      const retried = (await suite.store.get(job.id))!;
      expect(retried).toMatchObject({ state: 'available', attempt: 1, finishedAt: null });
      expect(ms(retried.runAt)).toBe(at(30 * SEC).getTime());
      expect(retried.errors).toHaveLength(1);
      expect(retried.errors[0]).toMatchObject({ attempt: 1, name: 'TypeError', message: 'failure 1', kind: 'error', stack: error.stack });
      expect(ms(retried.errors[0]!.at)).toBe(error.at.getTime());

      expect(await claim({ now: at(29 * SEC) })).toEqual([]);
      const [again] = await claim({ now: at(30 * SEC) });
      expect(again).toMatchObject({ id: job.id, attempt: 2 });
    });

    it.each(['dead', 'discarded'] as const)('fail moves the job to %s', async (final) => {
      const job = await running();
      await suite.store.fail(ref(job), final, attemptError(1), at(2 * SEC));
      const failed = (await suite.store.get(job.id))!;
      expect(failed.state).toBe(final);
      expect(ms(failed.finishedAt)).toBe(at(2 * SEC).getTime());
      expect(failed.errors.map((e) => e.message)).toEqual(['failure 1']);
      expect(await claim({ now: at(60 * SEC) })).toEqual([]);
    });

    it('release hands the job back without using up its attempts', async () => {
      const job = await running({ maxAttempts: 1 });
      await suite.store.release(ref(job), at(SEC), attemptError(1, { kind: 'shutdown' }));
      const released = (await suite.store.get(job.id))!;
      expect(released).toMatchObject({ state: 'available', attempt: 1, maxAttempts: 2 });
      expect(ms(released.runAt)).toBe(at(SEC).getTime());
      expect(released.errors.map((e) => e.kind)).toEqual(['shutdown']);
      const [again] = await claim({ now: at(SEC) });
      expect(again).toMatchObject({ attempt: 2, maxAttempts: 2 });
    });

    it(`release grants the extra attempt only ${FREE_HANDBACKS} times; then an interrupted last attempt is dead`, async () => {
      const job = await running({ maxAttempts: 1 });
      let current: Job = job;
      for (let handBack = 1; handBack <= FREE_HANDBACKS; handBack++) {
        await suite.store.release(ref(current), BASE, attemptError(current.attempt, { kind: 'shutdown' }));
        expect(await suite.store.get(job.id)).toMatchObject({ state: 'available', maxAttempts: 1 + handBack });
        [current] = (await claim()) as [Job];
      }
      await suite.store.release(ref(current), at(SEC), attemptError(current.attempt, { kind: 'shutdown' }));
      const dead = (await suite.store.get(job.id))!;
      expect(dead).toMatchObject({ state: 'dead', attempt: 1 + FREE_HANDBACKS, maxAttempts: 1 + FREE_HANDBACKS });
      expect(ms(dead.finishedAt)).toBe(at(SEC).getTime());
      expect(dead.errors.map((e) => e.kind)).toEqual(Array.from({ length: FREE_HANDBACKS + 1 }, () => 'shutdown'));
      expect(await claim()).toEqual([]);
    });

    it('release keeps maxAttempts when attempts remain', async () => {
      const job = await running({ maxAttempts: 3 });
      await suite.store.release(ref(job), BASE, attemptError(1, { kind: 'shutdown' }));
      expect((await suite.store.get(job.id))!.maxAttempts).toBe(3);
    });

    it('keeps the class of each error, through retries and into the dead job that get and list return', async () => {
      const job = await running({ maxAttempts: 3 });
      await suite.store.retry(ref(job), at(SEC), attemptError(1, { errorClass: 'transient' }));
      const [again] = await claim({ now: at(SEC) });
      await suite.store.retry(ref(again!), at(2 * SEC), attemptError(2, { errorClass: 'nonsense' as never }));
      const [last] = await claim({ now: at(2 * SEC) });
      await suite.store.fail(ref(last!), 'dead', attemptError(3, { errorClass: 'terminal' }), at(3 * SEC));
      const dead = (await suite.store.get(job.id))!;
      expect(dead.errors.map((e) => [e.attempt, e.errorClass])).toEqual([
        [1, 'transient'],
        [2, undefined],
        [3, 'terminal'],
      ]);
      // An error stored without a class (or with one the store does not know) has no errorClass key at all.
      expect(Object.keys(dead.errors[1]!)).not.toContain('errorClass');
      const [listed] = await suite.store.list({ states: ['dead'] });
      expect(listed!.errors).toEqual(dead.errors);
    });

    it('keeps only the last 20 errors', async () => {
      const job = await insert({ maxAttempts: 100 });
      for (let attempt = 1; attempt <= 25; attempt++) {
        const [claimed] = await claim();
        expect(claimed!.attempt).toBe(attempt);
        await suite.store.retry(ref(claimed!), BASE, attemptError(attempt));
      }
      const errors = (await suite.store.get(job.id))!.errors;
      expect(errors.map((e) => e.attempt)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6));
    });
  });
}
