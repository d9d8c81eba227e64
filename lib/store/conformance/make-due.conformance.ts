import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: `makeDue`, a waiting job brought forward to now.
 * @internal
 */
export function makeDueConformance(suite: ConformanceSuite): void {
  const { BASE, at, ms, SEC, insert, claim, running, ref, describe, it, expect } = suite;

  describe('makeDue', () => {
    it('makes a job due later due now, in its place of the claim order', async () => {
      const early = await insert({ runAt: at(2 * SEC) });
      const later = await insert({ runAt: at(60 * SEC) });
      const due = await suite.store.makeDue(later.id, at(SEC));
      expect(due).toMatchObject({ id: later.id, state: 'available', attempt: 0 });
      expect(ms(due!.runAt)).toBe(ms(at(SEC)));
      expect(ms((await suite.store.get(later.id))!.runAt)).toBe(ms(at(SEC)));
      // Due at 1 s now, so it comes before the job due at 2 s.
      expect((await claim({ now: at(3 * SEC), limit: 1 })).map((j) => j.id)).toEqual([later.id]);
      expect((await claim({ now: at(3 * SEC), limit: 1 })).map((j) => j.id)).toEqual([early.id]);
    });

    it('makes the job queued last due now, claimable before the one queued ahead of it is due', async () => {
      const early = await insert({ runAt: at(2 * SEC) });
      const later = await insert({ runAt: at(60 * SEC) });
      await suite.store.makeDue(later.id, at(SEC));
      expect((await claim({ now: at(1.5 * SEC) })).map((j) => j.id)).toEqual([later.id]);
      expect((await claim({ now: at(3 * SEC) })).map((j) => j.id)).toEqual([early.id]);
    });

    it('leaves a job due already as it is', async () => {
      const job = await insert({ runAt: BASE });
      const same = await suite.store.makeDue(job.id, at(5 * SEC));
      expect(ms(same!.runAt)).toBe(ms(BASE));
      expect((await claim({ now: at(5 * SEC) })).map((j) => j.id)).toEqual([job.id]);
    });

    it('answers null for a running, finished or unknown job and changes nothing', async () => {
      const job = await running();
      expect(await suite.store.makeDue(job.id, at(SEC))).toBeNull();
      expect((await suite.store.get(job.id))!.state).toBe('running');
      await suite.store.complete(ref(job), null, at(SEC));
      expect(await suite.store.makeDue(job.id, at(2 * SEC))).toBeNull();
      expect(await suite.store.makeDue('999999999', at(SEC))).toBeNull();
    });
  });
}
