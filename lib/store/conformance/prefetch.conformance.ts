import { StaleAttemptError } from '../../scheduler.errors.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: what prefetching relies on (insert with claimFor, claims above an urgency, unclaim).
 * @internal
 */
export function prefetchConformance(suite: ConformanceSuite): void {
  const { BASE, at, ms, SEC, newJob, insert, claim, ref, state, describe, it, expect } = suite;

  describe('insert with claimFor (an idle node runs what it enqueues)', () => {
    const claimFor = { node: 'node-a', now: at(10 * SEC) };

    it('inserts a due, keyless, unpinned job already claimed, as a claim would leave it', async () => {
      const [result] = await suite.store.insert([newJob({ runAt: at(SEC) })], { claimFor });
      expect(result!.inserted).toBe(true);
      const job = result!.job;
      expect(job).toMatchObject({ state: 'running', attempt: 1, node: 'node-a' });
      expect(ms(job.startedAt)).toBe(claimFor.now.getTime());
      expect(ms(job.heartbeatAt)).toBe(claimFor.now.getTime());
      expect(job.fencingToken).toBeGreaterThan(0);
      expect(await suite.store.get(job.id)).toMatchObject({ state: 'running', attempt: 1, node: 'node-a', fencingToken: job.fencingToken });
      // Nothing left for a claim; its acknowledgement is fenced as usual.
      expect(await claim({ now: at(10 * SEC) })).toEqual([]);
      await expect(suite.store.complete({ id: job.id, attempt: 2 }, null, BASE)).rejects.toBeInstanceOf(StaleAttemptError);
      await suite.store.complete(ref(job), null, BASE);
      expect(await state(job.id)).toBe('completed');
    });

    it('leaves delayed, pinned, serial and paused jobs available', async () => {
      await suite.store.setScheduleState('paused-name', { paused: true });
      for (const job of [newJob({ runAt: at(60 * SEC) }), newJob({ pinnedNode: 'node-a' }), newJob({ serialKey: 's' }), newJob({ name: 'paused-name' })]) {
        const [result] = await suite.store.insert([job], { claimFor });
        expect(result!.job.state).toBe('available');
        expect(await state(result!.job.id)).toBe('available');
      }
    });

    it('claims tick- and unique-keyed jobs, which keep their keys', async () => {
      const [tick] = await suite.store.insert([newJob({ tickKey: 't-1' })], { claimFor });
      const [unique] = await suite.store.insert([newJob({ uniqueKey: 'u-1' })], { claimFor });
      expect([tick!.job.state, unique!.job.state]).toEqual(['running', 'running']);
      const [again] = await suite.store.insert([newJob({ tickKey: 't-1' }), newJob({ uniqueKey: 'u-1' })], { claimFor });
      expect(again).toMatchObject({ inserted: false, conflict: 'tick', job: { id: tick!.job.id } });
      const [twice] = await suite.store.insert([newJob({ uniqueKey: 'u-1' })], { claimFor });
      expect(twice).toMatchObject({ inserted: false, conflict: 'unique', job: { id: unique!.job.id, state: 'running' } });
    });
  });

  describe('prefetch support: maxPriority and unclaim', () => {
    it('claims only jobs at or above an urgency, leaving the rest claimable', async () => {
      const low = await insert({ priority: 5 });
      const urgent = await insert({ priority: 0 });
      const mid = await insert({ priority: 2 });
      expect((await claim({ maxPriority: 1 })).map((j) => j.id)).toEqual([urgent.id]);
      expect((await claim({ maxPriority: 1 })).map((j) => j.id)).toEqual([]);
      expect((await claim()).map((j) => j.id)).toEqual([mid.id, low.id]);
    });

    it('unclaim hands never-started jobs back as if unclaimed; stale refs are ignored', async () => {
      const job = await insert();
      const [claimed] = await claim();
      expect(claimed!.attempt).toBe(1);
      expect(await suite.store.unclaim([ref(claimed!), { id: claimed!.id, attempt: 7 }, { id: '999999', attempt: 1 }])).toBe(1);
      const back = (await suite.store.get(job.id))!;
      expect([back.state, back.attempt, back.node, back.startedAt]).toEqual(['available', 0, null, null]);
      await expect(suite.store.complete(ref(claimed!), null, BASE)).rejects.toBeInstanceOf(StaleAttemptError);
      const [again] = await claim();
      expect(again!.attempt).toBe(1);
      expect(again!.fencingToken).toBeGreaterThan(claimed!.fencingToken);
      await suite.store.complete(ref(again!), null, BASE);
      expect(await suite.store.unclaim([ref(again!)])).toBe(0);
    });
  });
}
