import type { ErrorClass, Job, NewJob } from '../job.types.js';
import { newJobInput, type ConformanceSuite } from './suite.js';

/**
 * Conformance: dead letters filtered, counted, retried in bulk, pruned and alerted by the store.
 * @internal
 */
export function deadLetterConformance(suite: ConformanceSuite): void {
  const { at, ms, SEC, running, ref, attemptError, state, ids, describe, it, expect } = suite;

  /** A job that died at `diedAt` (seconds after BASE), its last error of `errorClass` (none: unclassified). */
  const dead = async (diedAt: number, overrides: Partial<NewJob> = {}, errorClass?: ErrorClass): Promise<Job> => {
    const job = await running({ maxAttempts: 1, ...overrides });
    const error = attemptError(1, { at: at(diedAt * SEC), ...(errorClass ? { errorClass } : {}) });
    await suite.store.fail(ref(job), 'dead', error, at(diedAt * SEC));
    return (await suite.store.get(job.id))!;
  };
  const sorted = (values: string[]): string[] => [...values].sort((a, b) => Number(a) - Number(b));

  describe('dead letters', () => {
    it('an attempt error keeps its class through every state and copy', async () => {
      const job = await running({ maxAttempts: 2 });
      await suite.store.retry(ref(job), at(SEC), attemptError(1, { errorClass: 'transient' }));
      const [again] = await suite.claim({ now: at(SEC) });
      await suite.store.fail(ref(again!), 'dead', attemptError(2, { errorClass: 'terminal' }), at(2 * SEC));
      const stored = await suite.store.get(job.id);
      expect(stored!.errors.map((e) => e.errorClass)).toEqual(['transient', 'terminal']);
      expect((await suite.store.listDead({}, 10, 0))[0]!.errors[1]).toEqual(stored!.errors[1]);
      const plain = await dead(3);
      expect((await suite.store.get(plain.id))!.errors[0]).not.toHaveProperty('errorClass');
    });

    it('lists by queue, name and class of the last error, newest death first, with limit and offset', async () => {
      const a = await dead(1, { queue: 'billing', name: 'charge' }, 'retryable');
      const b = await dead(3, { queue: 'billing', name: 'refund' }, 'terminal');
      const c = await dead(2, { queue: 'default', name: 'charge' });
      await running(); // not dead
      expect(ids(await suite.store.listDead({}, 10, 0))).toEqual([b.id, c.id, a.id]);
      expect(ids(await suite.store.listDead({}, 1, 1))).toEqual([c.id]);
      expect(ids(await suite.store.listDead({ queue: 'billing' }, 10, 0))).toEqual([b.id, a.id]);
      expect(ids(await suite.store.listDead({ name: 'charge' }, 10, 0))).toEqual([c.id, a.id]);
      expect(ids(await suite.store.listDead({ errorClass: 'terminal' }, 10, 0))).toEqual([b.id]);
      expect(ids(await suite.store.listDead({ errorClass: 'unclassified' }, 10, 0))).toEqual([c.id]);
      expect(ids(await suite.store.listDead({ queue: 'billing', name: 'charge', errorClass: 'retryable' }, 10, 0))).toEqual([a.id]);
      expect(ids(await suite.store.listDead({ queue: 'none' }, 10, 0))).toEqual([]);
      expect(ms((await suite.store.listDead({ name: 'refund' }, 1, 0))[0]!.finishedAt)).toBe(at(3 * SEC).getTime());
    });

    it('counts by queue, name and error class, following deaths, retries and deletions', async () => {
      expect(await suite.store.deadStats()).toEqual({ total: 0, byQueue: {}, byName: {}, byErrorClass: {} });
      await dead(1, { queue: 'billing', name: 'charge' }, 'retryable');
      const b = await dead(2, { queue: 'billing', name: 'refund' }, 'retryable');
      const c = await dead(3, { name: 'charge' });
      expect(await suite.store.deadStats()).toEqual({
        total: 3,
        byQueue: { billing: 2, default: 1 },
        byName: { charge: 2, refund: 1 },
        byErrorClass: { retryable: 2, unclassified: 1 },
      });
      await suite.store.resurrect(b.id, at(4 * SEC));
      await suite.store.delete([c.id]);
      expect(await suite.store.deadStats()).toEqual({ total: 1, byQueue: { billing: 1 }, byName: { charge: 1 }, byErrorClass: { retryable: 1 } });
    });

    it('a job rescued out of attempts is a dead letter (unclassified)', async () => {
      const job = await running({ maxAttempts: 1 });
      await suite.store.rescue(at(30 * SEC), at(60 * SEC));
      expect(await state(job.id)).toBe('dead');
      expect(await suite.store.deadStats()).toMatchObject({ total: 1, byErrorClass: { unclassified: 1 } });
    });

    it('resurrects in bulk: matching dead letters, oldest death first, at most `limit`', async () => {
      const a = await dead(1, { queue: 'billing' }, 'retryable');
      const b = await dead(2, { queue: 'billing' }, 'retryable');
      const c = await dead(3, { queue: 'billing' }, 'retryable');
      const other = await dead(0, { queue: 'billing' }, 'terminal');
      const moved = await suite.store.resurrectDead({ queue: 'billing', errorClass: 'retryable' }, 2, at(10 * SEC));
      expect(sorted(ids(moved))).toEqual([a.id, b.id]);
      for (const job of moved) expect(job).toMatchObject({ state: 'available', finishedAt: null, maxAttempts: 2 });
      expect(await state(c.id)).toBe('dead');
      expect(await state(other.id)).toBe('dead');
      expect(ids(await suite.claim({ queue: 'billing', now: at(10 * SEC) }))).toEqual([a.id, b.id]);
      expect(await suite.store.deadStats()).toMatchObject({ total: 2 });
      expect(await suite.store.resurrectDead({ queue: 'none' }, 10, at(10 * SEC))).toEqual([]);
    });

    it('bulk resurrect leaves dead one whose unique key another active job holds', async () => {
      const held = await dead(1, { uniqueKey: 'k' });
      const free = await dead(2);
      await suite.insert({ uniqueKey: 'k' });
      expect(ids(await suite.store.resurrectDead({}, 10, at(5 * SEC)))).toEqual([free.id]);
      expect(await state(held.id)).toBe('dead');
    });

    it('bulk resurrect reaches past many older dead letters it must leave dead', async () => {
      const held: Job[] = [];
      for (let i = 0; i < 40; i++) held.push(await dead(1 + i / 100, { uniqueKey: `held-${i}` }));
      for (let i = 0; i < 40; i++) await suite.insert({ uniqueKey: `held-${i}` });
      const free = [await dead(2), await dead(3)];
      expect(ids(await suite.store.resurrectDead({}, 1, at(5 * SEC)))).toEqual([free[0]!.id]);
      expect(ids(await suite.store.resurrectDead({}, 5, at(5 * SEC)))).toEqual([free[1]!.id]);
      for (const job of held) expect(await state(job.id)).toBe('dead');
      expect(await suite.store.deadStats()).toMatchObject({ total: 40 });
    });

    it('lists, resurrects and prunes across more dead letters than a store reads at a time', async () => {
      const inserted = await suite.store.insert(Array.from({ length: 600 }, (_, i) => newJobInput(at(0), { name: i % 2 ? 'b' : 'a', maxAttempts: 1 })));
      const claimed = await suite.claim({ limit: 600, ids: inserted.map((r) => r.job.id), now: at(0) });
      expect(claimed).toHaveLength(600);
      // Died a millisecond apart, in insert order.
      const order = new Map(inserted.map((r, i) => [r.job.id, i]));
      for (const job of claimed) {
        const diedAt = at(SEC + order.get(job.id)!);
        await suite.store.fail(ref(job), 'dead', attemptError(1, { at: diedAt }), diedAt);
      }
      const byDeath = (name: string) => inserted.filter((r) => r.job.name === name).map((r) => r.job.id);
      expect(ids(await suite.store.listDead({ name: 'b' }, 10, 290))).toEqual(byDeath('b').reverse().slice(290, 300));
      // Oldest death first (in any order within a call).
      expect(sorted(ids(await suite.store.resurrectDead({ name: 'a' }, 200, at(5 * SEC))))).toEqual(sorted(byDeath('a').slice(0, 200)));
      expect(sorted(ids(await suite.store.resurrectDead({ name: 'a' }, 1_000, at(5 * SEC))))).toEqual(sorted(byDeath('a').slice(200)));
      // The 10 newest spared: of the other 290, the oldest 200 go, then the rest.
      expect(await suite.store.pruneDead({ before: null, keep: 10, limit: 200 })).toBe(200);
      expect(await suite.store.pruneDead({ before: null, keep: 10, limit: 200 })).toBe(90);
      expect(ids(await suite.store.listDead({}, 100, 0))).toEqual(byDeath('b').reverse().slice(0, 10));
    });

    it('bulk resurrect of two dead jobs of one unique key puts back the first only', async () => {
      const first = await dead(1, { uniqueKey: 'k' });
      const second = await dead(2, { uniqueKey: 'k' });
      expect(ids(await suite.store.resurrectDead({}, 10, at(5 * SEC)))).toEqual([first.id]);
      expect(await state(second.id)).toBe('dead');
      const [again] = await suite.store.insert([newJobInput(at(5 * SEC), { uniqueKey: 'k' })]);
      expect(again).toMatchObject({ inserted: false, job: { id: first.id } });
    });

    it('bulk resurrect: a second dead job of a key it puts back is not counted in the limit', async () => {
      const first = await dead(1, { uniqueKey: 'k' });
      const second = await dead(2, { uniqueKey: 'k' });
      const free = await dead(3);
      const later = await dead(4);
      expect(sorted(ids(await suite.store.resurrectDead({}, 2, at(5 * SEC))))).toEqual(sorted([first.id, free.id]));
      expect(await state(second.id)).toBe('dead');
      expect(await state(later.id)).toBe('dead');
    });

    it('prunes what died before `before`, sparing the `keep` newest, oldest first, at most `limit`', async () => {
      const jobs = [await dead(1), await dead(2), await dead(3), await dead(4), await dead(5)];
      // Died before 3s (1s and 2s) and not among the 4 newest (2s to 5s): only the first.
      expect(await suite.store.pruneDead({ before: at(3 * SEC), keep: 4, limit: 100 })).toBe(1);
      expect(await state(jobs[0]!.id)).toBeUndefined();
      expect(await state(jobs[1]!.id)).toBe('dead');
      // Only keep: beyond the 2 newest (2s, 3s), oldest first, 1 per call.
      expect(await suite.store.pruneDead({ before: null, keep: 2, limit: 1 })).toBe(1);
      expect(await state(jobs[1]!.id)).toBeUndefined();
      expect(await state(jobs[2]!.id)).toBe('dead');
      // Only age: died before 5s (3s, 4s).
      expect(await suite.store.pruneDead({ before: at(5 * SEC), keep: 0, limit: 100 })).toBe(2);
      expect(ids(await suite.store.listDead({}, 10, 0))).toEqual([jobs[4]!.id]);
      expect(await suite.store.pruneDead({ before: null, keep: 0, limit: 0 })).toBe(0);
      expect(await suite.store.deadStats()).toMatchObject({ total: 1, byQueue: { default: 1 } });
    });

    it('hands out each death once until its lease runs out, and settles it', async () => {
      const a = await dead(1);
      const b = await dead(2);
      const taken = await suite.store.takeDeadAlerts(at(10 * SEC), 60 * SEC, 1);
      expect(taken.map((t) => [t.job.id, t.tries])).toEqual([[a.id, 1]]);
      expect(taken[0]!.job.state).toBe('dead');
      expect((await suite.store.takeDeadAlerts(at(10 * SEC), 60 * SEC, 10)).map((t) => t.job.id)).toEqual([b.id]);
      expect(await suite.store.takeDeadAlerts(at(20 * SEC), 60 * SEC, 10)).toEqual([]);
      await suite.store.settleDeadAlert(a.id, a.finishedAt!, null);
      await suite.store.settleDeadAlert(b.id, b.finishedAt!, at(30 * SEC));
      // b again at its retry time, a never again; a lease that ran out hands it out again.
      const later = await suite.store.takeDeadAlerts(at(30 * SEC), 60 * SEC, 10);
      expect(later.map((t) => [t.job.id, t.tries])).toEqual([[b.id, 2]]);
      expect((await suite.store.takeDeadAlerts(at(100 * SEC), 60 * SEC, 10)).map((t) => t.job.id)).toEqual([b.id]);
    });

    it('a retried job that dies again has a new alert; settling the old death leaves it', async () => {
      const job = await dead(1);
      await suite.store.takeDeadAlerts(at(2 * SEC), 60 * SEC, 10);
      await suite.store.resurrect(job.id, at(3 * SEC));
      const [again] = await suite.claim({ now: at(3 * SEC) });
      await suite.store.fail(ref(again!), 'dead', attemptError(2), at(4 * SEC));
      await suite.store.settleDeadAlert(job.id, job.finishedAt!, null);
      const taken = await suite.store.takeDeadAlerts(at(5 * SEC), 60 * SEC, 10);
      expect(taken.map((t) => [t.job.id, t.tries, ms(t.job.finishedAt)])).toEqual([[job.id, 1, at(4 * SEC).getTime()]]);
    });
  });
}
