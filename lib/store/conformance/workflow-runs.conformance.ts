import { InvalidArgumentError } from '../../scheduler.errors.js';
import type { WorkflowRun, WorkflowRunState } from '../workflow-run.types.js';
import { newRun, step } from './workflow-run.fixtures.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: workflow runs (create, copies, updateRun and its serialisation).
 * @internal
 */
export function workflowRunsConformance(suite: ConformanceSuite): void {
  const { BASE, at, ms, SEC, describe, it, expect } = suite;

  describe('workflow runs', () => {
    it('creates a run and reads it back, dates inside steps included', async () => {
      const trace = { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 };
      const steps = {
        first: step({
          state: 'completed',
          attempts: 2,
          output: { sent: true, ids: [1, 2] },
          jobId: '41',
          startedAt: at(SEC),
          finishedAt: at(2 * SEC),
          completedSeq: 1,
          rollback: 'done',
        }),
        second: step({ state: 'skipped', skipReason: 'condition', error: 'nope' }),
      };
      const run = await suite.store.createRun(newRun({ state: 'scheduled', steps, trace, runAt: at(60 * SEC) }), at(5 * SEC));
      expect(typeof run.id).toBe('string');
      expect(run).toMatchObject({
        workflow: 'onboarding',
        version: 'v1',
        state: 'scheduled',
        context: { user: { id: 7, tags: ['a', 'b'] } },
        seq: 0,
        error: null,
        trace,
        finishedAt: null,
      });
      expect(ms(run.runAt)).toBe(at(60 * SEC).getTime());
      expect(ms(run.createdAt)).toBe(at(5 * SEC).getTime());
      expect(ms(run.updatedAt)).toBe(at(5 * SEC).getTime());
      expect(run.steps.first!.startedAt).toBeInstanceOf(Date);
      expect(run.steps.first!.finishedAt).toBeInstanceOf(Date);
      expect(run.steps).toEqual(steps);

      const stored = await suite.store.getRun(run.id);
      expect(stored).toEqual(run);
      expect(stored!.steps.first!.startedAt).toBeInstanceOf(Date);
      expect(ms(stored!.steps.first!.finishedAt)).toBe(at(2 * SEC).getTime());
      expect(stored!.steps.second!.startedAt).toBeNull();

      const other = await suite.store.createRun(newRun(), BASE);
      expect(other.id).not.toBe(run.id);
      expect(await suite.store.getRun('999999')).toBeNull();
      expect(await suite.store.getRun('not-an-id')).toBeNull();
    });

    it('isolates stored runs from callers', async () => {
      const input = newRun({ steps: { first: step({ startedAt: at(SEC), output: { n: 1 } }) } });
      const run = await suite.store.createRun(input, BASE);
      (input.context.user as { id: number }).id = 99;
      input.steps.first!.startedAt!.setTime(0);
      input.steps.first!.output!.n = 2;
      run.context.extra = true;
      run.steps.first!.state = 'failed';
      run.steps.first!.startedAt!.setTime(0);
      run.createdAt.setTime(0);

      const stored = await suite.store.getRun(run.id);
      expect(stored!.context).toEqual({ user: { id: 7, tags: ['a', 'b'] } });
      expect(stored!.steps.first).toMatchObject({ state: 'pending', output: { n: 1 } });
      expect(ms(stored!.steps.first!.startedAt)).toBe(at(SEC).getTime());
      expect(ms(stored!.createdAt)).toBe(BASE.getTime());

      // Changes made to what mutate got, or to what it returned, after the call stay outside.
      let seen: WorkflowRun | undefined;
      await suite.store.updateRun(run.id, BASE, (r) => {
        seen = r;
        r.context.touched = 'yes';
        return null;
      });
      expect((await suite.store.getRun(run.id))!.context).not.toHaveProperty('touched');
      const next = { ...seen!, context: { kept: 1 } };
      const saved = await suite.store.updateRun(run.id, BASE, () => next);
      next.context.kept = 2;
      saved!.context.kept = 3;
      expect((await suite.store.getRun(run.id))!.context).toEqual({ kept: 1 });
    });

    it('updateRun saves what mutate returns and bumps updatedAt', async () => {
      const run = await suite.store.createRun(newRun(), BASE);
      let given: WorkflowRun | undefined;
      const saved = await suite.store.updateRun(run.id, at(10 * SEC), (r) => {
        given = structuredClone(r);
        return {
          ...r,
          // id and createdAt are the store's: changes to them are ignored.
          id: 'other',
          createdAt: at(99 * SEC),
          state: 'failed',
          seq: 1,
          error: 'boom',
          context: { ...r.context, first: 'done' },
          steps: {
            ...r.steps,
            first: { ...r.steps.first!, state: 'completed', startedAt: at(SEC), finishedAt: at(3 * SEC), completedSeq: 1, rollbackIfCompleted: true },
          },
          finishedAt: at(10 * SEC),
        };
      });
      expect(given).toEqual(run);
      expect(saved).toMatchObject({ id: run.id, state: 'failed', seq: 1, error: 'boom', context: { first: 'done' } });
      expect(ms(saved!.createdAt)).toBe(BASE.getTime());
      expect(ms(saved!.updatedAt)).toBe(at(10 * SEC).getTime());
      expect(ms(saved!.finishedAt)).toBe(at(10 * SEC).getTime());
      expect(ms(saved!.steps.first!.finishedAt)).toBe(at(3 * SEC).getTime());
      expect(saved!.steps.first!.rollbackIfCompleted).toBe(true);
      expect(await suite.store.getRun(run.id)).toEqual(saved);
    });

    it('updateRun leaves the run as it was when mutate returns null', async () => {
      const run = await suite.store.createRun(newRun(), BASE);
      const same = await suite.store.updateRun(run.id, at(10 * SEC), () => null);
      expect(same).toEqual(run);
      expect(ms((await suite.store.getRun(run.id))!.updatedAt)).toBe(BASE.getTime());
    });

    it('updateRun of a missing run resolves to null without calling mutate', async () => {
      let called = false;
      const mutate = (r: WorkflowRun): WorkflowRun => {
        called = true;
        return r;
      };
      expect(await suite.store.updateRun('999999', BASE, mutate)).toBeNull();
      expect(await suite.store.updateRun('not-an-id', BASE, mutate)).toBeNull();
      expect(called).toBe(false);
    });

    it('updateRun saves nothing when mutate throws, and rejects with its error', async () => {
      const run = await suite.store.createRun(newRun(), BASE);
      const failure = new Error('mutate failed');
      await expect(
        suite.store.updateRun(run.id, at(SEC), (r) => {
          r.seq = 5;
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await suite.store.getRun(run.id)).toEqual(run);
      // The run is not left locked.
      expect((await suite.store.updateRun(run.id, at(SEC), (r) => ({ ...r, seq: 1 })))!.seq).toBe(1);
    });

    it('refuses states that are not run states', async () => {
      await expect(suite.store.createRun(newRun({ state: 'done' as WorkflowRunState }), BASE)).rejects.toBeInstanceOf(InvalidArgumentError);
      const run = await suite.store.createRun(newRun(), BASE);
      await expect(suite.store.updateRun(run.id, BASE, (r) => ({ ...r, state: 'done' as WorkflowRunState }))).rejects.toBeInstanceOf(InvalidArgumentError);
      expect((await suite.store.getRun(run.id))!.state).toBe('running');
    });

    it('serialises concurrent updateRun calls on one run', async () => {
      const run = await suite.store.createRun(newRun(), BASE);
      const seen: number[] = [];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          suite.store.updateRun(run.id, at(i * SEC), (r) => {
            seen.push(r.seq);
            return { ...r, seq: r.seq + 1, steps: { ...r.steps, [`s${i}`]: step({ state: 'completed', completedSeq: r.seq + 1 }) } };
          }),
        ),
      );
      expect((await suite.store.getRun(run.id))!.seq).toBe(20);
      // Each mutate saw the previous one's result: no two saw the same run.
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(results.map((r) => r!.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(Object.keys((await suite.store.getRun(run.id))!.steps)).toHaveLength(22);
    });
  });
}
