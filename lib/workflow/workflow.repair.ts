import { Logger } from '@nestjs/common';
import { PeriodicTask, type LoopTask } from '../planner/scheduler.loop.js';
import type { SchedulerPlugin } from '../plugins/scheduler.plugin.js';
import type { JobStore } from '../store/job-store.js';
import type { WorkflowEngine } from './workflow.engine.js';
import { QUEUED } from './workflow.progress.js';

/**
 * What the repair sweep uses.
 * @internal
 */
export interface WorkflowRepairPorts {
  store: Pick<JobStore, 'listRuns'>;
  engine: Pick<WorkflowEngine, 'definition' | 'rollback' | 'enqueueSteps' | 'advance'>;
  isLeader(): boolean;
  /** How often the leader sweeps, in ms. */
  interval: number;
}

/**
 * Workflow repair (leader only): a step marked queued whose job insert was
 * lost (a crash between the two) is queued again, the unique (run, step)
 * key making this a no-op when the job exists; a step that completed just
 * as its run's rollback chain ended is compensated by a new chain.
 * @internal
 */
export class WorkflowRepairPlugin implements SchedulerPlugin {
  readonly name = 'workflow-repair';
  private readonly logger = new Logger('Scheduler');

  constructor(private readonly ports: WorkflowRepairPorts) {}

  tasks(): LoopTask[] {
    return [
      new PeriodicTask(
        'workflow-repair',
        this.ports.interval,
        () => this.repair(),
        () => this.ports.isLeader(),
      ),
    ];
  }

  async repair(): Promise<void> {
    const { store, engine } = this.ports;
    for (const run of await store.listRuns({ states: ['failed'], limit: 1_000 })) {
      const def = engine.definition(run.workflow);
      // A run failed by a version mismatch is not compensated (documented).
      if (def?.version !== run.version) continue;
      if (Object.entries(run.steps).some(([name, sr]) => sr.state === 'completed' && sr.rollback === null && def?.steps.get(name)?.runRollback)) {
        await engine.rollback.begin(run);
      }
    }
    for (const run of await store.listRuns({ states: ['running'], limit: 1_000 })) {
      const queued = Object.entries(run.steps)
        .filter(([, sr]) => sr.state === 'pending' && sr.jobId === QUEUED)
        .map(([name]) => name);
      try {
        await engine.enqueueSteps(run, queued);
        await engine.advance(run.id);
      } catch (error) {
        this.logger.warn(`repairing workflow run ${run.id} failed: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }
}
