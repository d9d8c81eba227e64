import { Logger } from '@nestjs/common';
import { PeriodicTask, type LoopTask } from '../planner/scheduler.loop.js';
import type { SchedulerPlugin } from '../plugins/scheduler.plugin.js';
import type { JobStore } from '../store/job-store.js';
import type { StepRun, WorkflowRun } from '../store/workflow-run.types.js';
import type { WorkflowEngine } from './workflow.engine.js';
import { QUEUED } from './workflow.progress.js';

/**
 * What the repair sweep uses.
 * @internal
 */
export interface WorkflowRepairPorts {
  store: Pick<JobStore, 'listRuns' | 'getRun' | 'get'>;
  engine: Pick<WorkflowEngine, 'definition' | 'rollback' | 'enqueueSteps' | 'advance' | 'startScheduled' | 'stepJobDead'>;
  isLeader(): boolean;
  /** How often the leader sweeps, in ms. */
  interval: number;
}

/** Runs of a state read a sweep. */
const PAGE = 1_000;

/**
 * Workflow repair (leader only): a step marked queued whose job insert was
 * lost (a crash between the two) is queued again, the unique (run, step)
 * key making this a no-op when the job exists; a failed run, or one
 * cancelled with rollback, that still owes a compensation (its chain was
 * never queued, the node dying first, or a step completed just as the chain
 * ended) gets a new chain. The chain's job is unique per run, so a sweep
 * (or two leaders at a hand-over) queues none while one is queued or
 * running, and each rollback is marked under the run's lock before it runs:
 * none runs twice.
 *
 * A sweep reads a page of runs of each state it repairs, newest first,
 * and the next sweep goes on from where it stopped (starting over after a
 * short page), so every run is looked at however many there are. Runs
 * changed within the last interval are under way: they are left to their
 * own progress, and looked at on a later pass if they stop.
 * @internal
 */
export class WorkflowRepairPlugin implements SchedulerPlugin {
  readonly name = 'workflow-repair';
  private readonly logger = new Logger('Scheduler');
  /** The last run id of each state's previous page, when it was full. */
  private readonly after: Partial<Record<'failed' | 'cancelled' | 'running' | 'scheduled', string>> = {};

  constructor(private readonly ports: WorkflowRepairPorts) {}

  tasks(): LoopTask[] {
    return [
      new PeriodicTask(
        'workflow-repair',
        this.ports.interval,
        (now) => this.repair(now),
        () => this.ports.isLeader(),
      ),
    ];
  }

  /** One sweep at `now` (epoch ms). */
  async repair(now: number): Promise<void> {
    const { engine } = this.ports;
    for (const run of [...(await this.page('failed', now)), ...(await this.page('cancelled', now))]) {
      const def = engine.definition(run.workflow);
      // A run failed by a version mismatch is not compensated (documented).
      if (def?.version !== run.version) continue;
      // Of a cancelled run, only the steps a cancel with rollback marked (completed or running then): a cancel without owes none.
      const owed = (name: string, sr: StepRun) => (run.state === 'failed' || sr.rollbackIfCompleted === true) && def.steps.get(name)?.runRollback !== undefined;
      if (!Object.entries(run.steps).some(([name, sr]) => sr.state === 'completed' && sr.rollback === null && owed(name, sr))) continue;
      // Read again: the page may predate a chain that has compensated since and ended, its unique key free for a second.
      const fresh = await this.ports.store.getRun(run.id);
      if (fresh?.updatedAt.getTime() === run.updatedAt.getTime()) await engine.rollback.begin(fresh);
    }
    await this.startOverdue(now);
    for (const run of await this.page('running', now)) {
      const queued = Object.entries(run.steps)
        .filter(([, sr]) => sr.state === 'pending' && sr.jobId === QUEUED)
        .map(([name]) => name);
      try {
        // A step whose job died without the run hearing of it (the report of its death failed, the store being out): its policy applies now.
        for (const [step, sr] of Object.entries(run.steps)) {
          if (sr.state !== 'running' || !sr.jobId || sr.jobId === QUEUED) continue;
          const job = await this.ports.store.get(sr.jobId);
          if (job === null || job.state === 'dead') await engine.stepJobDead(sr.jobId, { runId: run.id, step }, new Error('the step job died'));
        }
        // Read again, as for a chain above: a step whose job ran and ended since the page was read is not queued twice.
        const fresh = queued.length > 0 ? await this.ports.store.getRun(run.id) : null;
        if (fresh?.updatedAt.getTime() === run.updatedAt.getTime()) await engine.enqueueSteps(fresh, queued);
        await engine.advance(run.id);
      } catch (error) {
        this.logger.warn(`repairing workflow run ${run.id} failed: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }

  /** Scheduled runs past their time whose start job was lost (its insert failed): started now (a no-op for a run started already). */
  private async startOverdue(now: number): Promise<void> {
    for (const run of await this.page('scheduled', now)) {
      if (run.runAt === null || run.runAt.getTime() > now - this.ports.interval) continue;
      try {
        await this.ports.engine.startScheduled(run.id);
      } catch (error) {
        this.logger.warn(`starting workflow run ${run.id} failed: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }

  /** The next page of runs in `state`, those changed since `now - interval` left out. */
  private async page(state: 'failed' | 'cancelled' | 'running' | 'scheduled', now: number): Promise<WorkflowRun[]> {
    const runs = await this.ports.store.listRuns({ states: [state], limit: PAGE, afterId: this.after[state] });
    if (runs.length === PAGE) this.after[state] = runs[runs.length - 1]!.id;
    else delete this.after[state];
    const settled = now - this.ports.interval;
    return runs.filter((run) => run.updatedAt.getTime() <= settled);
  }
}
