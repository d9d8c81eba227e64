import type { NewJob, UniqueState } from '../job.types.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: unique keys judged by the holder's state and insert time
 * (`uniqueStates`, `uniquePeriod`), at the insert's `now`.
 * @internal
 */
export function uniqueConformance(suite: ConformanceSuite): void {
  const { BASE, at, SEC, newJob, claim, ref, describe, it, expect } = suite;
  const ALL: UniqueState[] = ['scheduled', 'available', 'running', 'completed'];

  /** Inserts one job at `now`; resolves to its result. */
  const put = async (overrides: Partial<NewJob>, now: Date) => (await suite.store.insert([newJob(overrides)], { now }))[0]!;
  const complete = async (id: string, now = BASE) => {
    const [job] = await claim({ ids: [id], now });
    expect(job?.id).toBe(id);
    await suite.store.complete(ref(job!), null, now);
  };

  describe('unique states and periods', () => {
    it('keeps the key of a completed job when its states include completed, and frees it otherwise', async () => {
      const kept = await put({ uniqueKey: 'kept', uniqueStates: ALL }, BASE);
      await complete(kept.job.id);
      const dup = await put({ uniqueKey: 'kept', uniqueStates: ALL }, at(SEC));
      expect(dup).toMatchObject({ inserted: false, conflict: 'unique' });
      expect(dup.job.id).toBe(kept.job.id);
      expect(dup.job.state).toBe('completed');

      const freed = await put({ uniqueKey: 'freed' }, BASE);
      await complete(freed.job.id);
      expect((await put({ uniqueKey: 'freed' }, at(SEC))).inserted).toBe(true);
    });

    it('lets a new job whose states leave completed out take over the key a completed job kept', async () => {
      const kept = await put({ uniqueKey: 'k', uniqueStates: ALL }, BASE);
      await complete(kept.job.id);
      const taken = await put({ uniqueKey: 'k' }, at(SEC));
      expect(taken.inserted).toBe(true);
      // The new holder blocks as usual.
      const dup = await put({ uniqueKey: 'k', uniqueStates: ALL }, at(2 * SEC));
      expect(dup.inserted).toBe(false);
      expect(dup.job.id).toBe(taken.job.id);
    });

    it('blocks only within the period of the holder insert, then takes the key over', async () => {
      const spec = { uniqueKey: 'daily', uniqueStates: ALL, uniquePeriod: 60 * SEC };
      const first = await put(spec, BASE);
      await complete(first.job.id, at(SEC));
      const within = await put(spec, at(59 * SEC));
      expect(within).toMatchObject({ inserted: false, conflict: 'unique' });
      expect(within.job.id).toBe(first.job.id);
      const after = await put(spec, at(60 * SEC));
      expect(after.inserted).toBe(true);
      // The period now counts from the new holder's insert.
      const next = await put(spec, at(119 * SEC));
      expect(next.inserted).toBe(false);
      expect(next.job.id).toBe(after.job.id);
      expect(await suite.store.count({ name: 'work' })).toBe(2);
    });

    it('takes over the key of a job still running once the period has passed', async () => {
      const spec = { uniqueKey: 'p', uniquePeriod: 10 * SEC };
      const first = await put(spec, BASE);
      await claim({ ids: [first.job.id] });
      expect((await put(spec, at(9 * SEC))).inserted).toBe(false);
      const second = await put(spec, at(10 * SEC));
      expect(second.inserted).toBe(true);
      expect(await suite.state(first.job.id)).toBe('running');
      // The job that lost its key finishes without freeing the new holder's.
      await suite.store.complete(ref({ ...first.job, attempt: 1 }), null, at(11 * SEC));
      expect((await put(spec, at(12 * SEC))).job.id).toBe(second.job.id);
    });

    it('tells scheduled (not yet due) from available holders by the insert time', async () => {
      const later = at(3600 * SEC);
      const held = await put({ uniqueKey: 's', uniqueStates: ['scheduled'], runAt: later }, BASE);
      expect((await put({ uniqueKey: 's', uniqueStates: ['scheduled'] }, at(SEC))).job.id).toBe(held.job.id);
      // Due now: no longer 'scheduled', so a new job takes the key.
      const taken = await put({ uniqueKey: 's', uniqueStates: ['scheduled'] }, later);
      expect(taken.inserted).toBe(true);

      const due = await put({ uniqueKey: 'a', uniqueStates: ['available'] }, BASE);
      expect((await put({ uniqueKey: 'a', uniqueStates: ['available'], runAt: at(SEC) }, BASE)).inserted).toBe(false);
      await claim({ ids: [due.job.id] });
      expect((await put({ uniqueKey: 'a', uniqueStates: ['available'] }, BASE)).inserted).toBe(true);
    });

    it('blocks on a running holder only when running is among the states', async () => {
      const job = await put({ uniqueKey: 'r', uniqueStates: ['running'] }, BASE);
      // Still available: does not block, and the new job takes the key.
      const second = await put({ uniqueKey: 'r', uniqueStates: ['running'] }, BASE);
      expect(second.inserted).toBe(true);
      await claim({ ids: [second.job.id] });
      const third = await put({ uniqueKey: 'r', uniqueStates: ['running'] }, BASE);
      expect(third).toMatchObject({ inserted: false, conflict: 'unique' });
      expect(third.job.id).toBe(second.job.id);
      expect(job.inserted).toBe(true);
    });

    it('frees a key a completed job kept when the job is deleted or pruned', async () => {
      const deleted = await put({ uniqueKey: 'd', uniqueStates: ALL }, BASE);
      await complete(deleted.job.id);
      await suite.store.delete([deleted.job.id]);
      expect((await put({ uniqueKey: 'd', uniqueStates: ALL }, at(SEC))).inserted).toBe(true);

      const pruned = await put({ uniqueKey: 'pr', uniqueStates: ALL }, BASE);
      await complete(pruned.job.id);
      expect(await suite.store.prune(['completed'], at(3600 * SEC), 100)).toBeGreaterThan(0);
      expect((await put({ uniqueKey: 'pr', uniqueStates: ALL }, at(SEC))).inserted).toBe(true);
    });

    it('lets the first job of a batch take a key, the others being its duplicates', async () => {
      const spec = { uniqueKey: 'b', uniqueStates: ALL, uniquePeriod: 60 * SEC };
      const results = await suite.store.insert([newJob({ ...spec, args: { n: 1 } }), newJob({ ...spec, args: { n: 2 } }), newJob({ args: { n: 3 } })], {
        now: BASE,
      });
      expect(results.map((r) => r.inserted)).toEqual([true, false, true]);
      expect(results[1]!.job.id).toBe(results[0]!.job.id);
      expect(results[1]!.job.args).toEqual({ n: 1 });
    });

    it('refuses unique states or a period it cannot keep', async () => {
      await expect(suite.store.insert([newJob({ uniqueKey: 'x', uniqueStates: ['queued' as UniqueState] })])).rejects.toMatchObject({
        argument: 'uniqueStates',
      });
      await expect(suite.store.insert([newJob({ uniqueKey: 'x', uniquePeriod: -1 })])).rejects.toMatchObject({ argument: 'uniquePeriod' });
      expect(await suite.store.count({})).toBe(0);
    });
  });
}
