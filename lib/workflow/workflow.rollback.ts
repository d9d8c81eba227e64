import type { JobContext } from '../execution/job-context.js';
import { ROLLBACK_JOB, internalJob } from './workflow.jobs.js';
import type { WorkflowDefinitions, WorkflowEmitter, WorkflowPorts } from './workflow.ports.js';
import type { StepContext, StepRun, WorkflowRun } from './workflow.types.js';

/**
 * Compensation of a failed (or cancelled with `rollback: true`) run: the
 * `rollback` of every completed step, in reverse order of completion, one at
 * a time, in one job. Each rollback is marked `running` under the run's lock
 * before it runs, so two chains (or a chain and a late completion) never
 * run the same one twice; a node that dies mid-rollback leaves it `running`
 * (at most once, never twice).
 * @internal
 */
export class WorkflowRollback {
  constructor(
    private readonly s: WorkflowPorts,
    private readonly definitions: WorkflowDefinitions,
    private readonly emit: WorkflowEmitter,
  ) {}

  /** Queues the rollback chain of a run. */
  async begin(run: WorkflowRun): Promise<void> {
    const def = this.definitions.get(run.workflow);
    if (!def) return;
    const now = new Date(this.s.clock.now());
    await this.s.insert([{ ...internalJob(ROLLBACK_JOB, { runId: run.id }, run, def, now), uniqueKey: `workflow:${run.id}:rollback` }]);
  }

  /** A step completed after its run failed, or was cancelled with rollback (the cancel marked it): it is compensated too. */
  async lateCompletion(run: WorkflowRun): Promise<void> {
    const owed = (sr: StepRun) => sr.state === 'completed' && sr.rollback === null && sr.rollbackIfCompleted === true;
    if (run.state === 'failed' || (run.state === 'cancelled' && Object.values(run.steps).some(owed))) await this.begin(run);
  }

  /** The rollback job: compensates completed steps, newest first, until none is left. */
  async runChain(ctx: JobContext<unknown>): Promise<unknown> {
    const { runId } = ctx.args as { runId: string };
    let count = 0;
    for (;;) {
      let picked: { run: WorkflowRun; step: string } | null = null;
      await this.s.store.updateRun(runId, new Date(this.s.clock.now()), (r) => {
        picked = null; // a store may call mutate again when the run changed before its save: only the last call counts
        const def = this.definitions.get(r.workflow);
        if (!def) return null;
        const candidates = Object.entries(r.steps)
          .filter(([, sr]) => sr.state === 'completed' && sr.rollback === null)
          .sort(([, a], [, b]) => (b.completedSeq ?? 0) - (a.completedSeq ?? 0));
        const next = candidates[0];
        if (!next) return null;
        const [name, sr] = next;
        const hasRollback = def.steps.get(name)?.runRollback !== undefined;
        const steps = { ...r.steps, [name]: { ...sr, rollback: hasRollback ? ('running' as const) : ('done' as const) } };
        const updated = { ...r, steps };
        if (hasRollback) picked = { run: updated, step: name };
        return updated;
      });
      const choice = picked as { run: WorkflowRun; step: string } | null;
      if (!choice) {
        const left = await this.s.store.getRun(runId);
        const more = left && Object.values(left.steps).some((sr) => sr.state === 'completed' && sr.rollback === null);
        if (!more) return { rolledBack: count };
        continue;
      }
      await this.compensate(choice.run, choice.step, ctx);
      count++;
    }
  }

  private async compensate(run: WorkflowRun, step: string, ctx: JobContext<unknown>): Promise<void> {
    const def = this.definitions.get(run.workflow)!;
    const began = this.s.clock.now();
    this.emit.step('rollback:start', run, step, ctx.attempt, 0, 'started');
    const stepCtx = Object.assign(Object.create(ctx) as object, { runId: run.id, workflow: run.workflow, step, context: run.context }) as StepContext;
    let failure: unknown = null;
    try {
      await def.steps.get(step)!.runRollback!(stepCtx);
    } catch (error) {
      failure = error ?? new Error('rollback failed');
    }
    await this.s.store.updateRun(run.id, new Date(this.s.clock.now()), (r) => {
      const sr = r.steps[step]!;
      return {
        ...r,
        steps: {
          ...r.steps,
          [step]: failure
            ? { ...sr, rollback: 'failed', error: String((failure as Error)?.message ?? failure) }
            : { ...sr, rollback: 'done', state: 'rolled_back' },
        },
      };
    });
    const duration = this.s.clock.now() - began;
    if (failure) this.emit.step('rollback:exception', run, step, ctx.attempt, duration, 'failed', { error: failure });
    else this.emit.step('rollback:stop', run, step, ctx.attempt, duration, 'rolled_back');
  }
}
