import type { WorkflowRun, WorkflowRunState } from '../workflow-run.types.js';
import { newRun } from './workflow-run.fixtures.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: workflow runs listed and deleted.
 * @internal
 */
export function workflowRunQueriesConformance(suite: ConformanceSuite): void {
  const { BASE, at, SEC, describe, it, expect } = suite;

  describe('workflow runs', () => {
    /** Creates a run and moves it to `state`, finished at `finishedAt`. */
    const runIn = async (state: WorkflowRunState, finishedAt: Date | null, workflow = 'onboarding'): Promise<WorkflowRun> => {
      const run = await suite.store.createRun(newRun({ workflow }), BASE);
      return (await suite.store.updateRun(run.id, BASE, (r) => ({ ...r, state, finishedAt })))!;
    };

    it('lists runs newest first, by workflow and states, up to a limit', async () => {
      const a1 = await runIn('completed', at(SEC), 'a');
      const b1 = await runIn('running', null, 'b');
      const a2 = await runIn('failed', at(2 * SEC), 'a');
      const a3 = await runIn('running', null, 'a');
      const b2 = await runIn('paused', null, 'b');
      const ids = (runs: readonly WorkflowRun[]): string[] => runs.map((r) => r.id);

      expect(ids(await suite.store.listRuns({}))).toEqual([b2.id, a3.id, a2.id, b1.id, a1.id]);
      expect(ids(await suite.store.listRuns({ workflow: 'a' }))).toEqual([a3.id, a2.id, a1.id]);
      expect(ids(await suite.store.listRuns({ states: ['running', 'paused'] }))).toEqual([b2.id, a3.id, b1.id]);
      expect(ids(await suite.store.listRuns({ workflow: 'a', states: ['completed', 'failed'] }))).toEqual([a2.id, a1.id]);
      expect(ids(await suite.store.listRuns({ states: [] }))).toEqual([]);
      expect(ids(await suite.store.listRuns({ workflow: 'c' }))).toEqual([]);
      expect(ids(await suite.store.listRuns({ limit: 2 }))).toEqual([b2.id, a3.id]);
      expect(ids(await suite.store.listRuns({ workflow: 'a', limit: 1 }))).toEqual([a3.id]);
      expect(await suite.store.listRuns({ limit: 0 })).toEqual([]);
      // Keyset paging: runs older than an id, with the other filters.
      expect(ids(await suite.store.listRuns({ afterId: a3.id }))).toEqual([a2.id, b1.id, a1.id]);
      expect(ids(await suite.store.listRuns({ afterId: a3.id, limit: 2 }))).toEqual([a2.id, b1.id]);
      expect(ids(await suite.store.listRuns({ afterId: b1.id, workflow: 'a' }))).toEqual([a1.id]);
      expect(ids(await suite.store.listRuns({ afterId: b2.id, states: ['running'] }))).toEqual([a3.id, b1.id]);
      expect(ids(await suite.store.listRuns({ afterId: a1.id }))).toEqual([]);
      expect(ids(await suite.store.listRuns({ afterId: String(Number(b2.id) + 100) }))).toEqual(ids(await suite.store.listRuns({})));
      const [listed] = await suite.store.listRuns({ workflow: 'a', states: ['failed'] });
      expect(listed).toEqual(await suite.store.getRun(a2.id));
    });

    it('lists at most 100 runs by default', async () => {
      for (let i = 0; i < 101; i++) await suite.store.createRun(newRun(), BASE);
      expect(await suite.store.listRuns({})).toHaveLength(100);
      expect(await suite.store.listRuns({ limit: 200 })).toHaveLength(101);
    });

    it('deletes finished runs finished before a time, oldest first, up to a limit', async () => {
      const cancelled = await runIn('cancelled', at(3 * SEC));
      const completed = await runIn('completed', at(SEC));
      const failed = await runIn('failed', at(2 * SEC));
      const recent = await runIn('completed', at(10 * SEC));
      const running = await runIn('running', at(SEC)); // not finished, whatever its finishedAt says
      const paused = await runIn('paused', null);
      const scheduled = await runIn('scheduled', null);
      const before = at(5 * SEC);

      expect(await suite.store.deleteRuns(before, 0)).toBe(0);
      expect(await suite.store.deleteRuns(before, 2)).toBe(2);
      expect(await suite.store.getRun(completed.id)).toBeNull();
      expect(await suite.store.getRun(failed.id)).toBeNull();
      expect(await suite.store.getRun(cancelled.id)).not.toBeNull();
      expect(await suite.store.deleteRuns(before, 10)).toBe(1);
      expect(await suite.store.deleteRuns(before, 10)).toBe(0);
      expect(await suite.store.deleteRuns(at(3 * SEC), 10)).toBe(0);
      const left = (await suite.store.listRuns({})).map((r) => r.id).sort();
      expect(left).toEqual([recent.id, running.id, paused.id, scheduled.id].sort());
      expect(await suite.store.deleteRuns(at(11 * SEC), Infinity)).toBe(1);
    });
  });
}
