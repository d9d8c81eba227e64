import type { Clock } from '../clock/clock.js';
import type { JobContext } from '../execution/job-context.js';
import type { JobStore } from '../store/job-store.js';
import type { InsertResult, NewJob } from '../store/job.types.js';
import type { SchedulerEvents, StepEvent, WorkflowEvent } from '../telemetry/scheduler.events.js';
import type { WorkflowDefinition } from './workflow.definition.js';
import type { WorkflowRun } from './workflow.types.js';

/**
 * What the workflow engine uses from the rest of the scheduler.
 * @internal
 */
export interface WorkflowPorts {
  store: Pick<JobStore, 'createRun' | 'updateRun' | 'getRun' | 'maxPayloadBytes'>;
  /** Inserts step, rollback and start jobs the way every job enters the store (the producer). */
  insert(jobs: readonly NewJob[]): Promise<InsertResult[]>;
  clock: Clock;
  events: Pick<SchedulerEvents, 'emit'>;
}

/**
 * The registered workflows, by name.
 * @internal
 */
export type WorkflowDefinitions = ReadonlyMap<string, WorkflowDefinition>;

/**
 * Run events and step events of workflows, with their durations.
 * @internal
 */
export class WorkflowEmitter {
  constructor(private readonly ports: Pick<WorkflowPorts, 'clock' | 'events'>) {}

  run(
    event: 'workflow:start' | 'workflow:stop' | 'workflow:fail' | 'workflow:pause' | 'workflow:resume' | 'workflow:cancel',
    run: WorkflowRun,
    outcome: WorkflowEvent['outcome'],
    error?: string,
  ): void {
    const duration = event === 'workflow:start' ? 0 : this.ports.clock.now() - run.createdAt.getTime();
    this.ports.events.emit(event, { runId: run.id, workflow: run.workflow, duration, outcome, ...(error ? { error } : {}) });
  }

  step(
    event: 'step:start' | 'step:stop' | 'step:exception' | 'step:skip' | 'step:retry' | 'rollback:start' | 'rollback:stop' | 'rollback:exception',
    run: WorkflowRun,
    step: string,
    attempt: number,
    duration: number,
    outcome: StepEvent['outcome'],
    extra: { error?: unknown; reason?: string } = {},
  ): void {
    this.ports.events.emit(event, { runId: run.id, workflow: run.workflow, step, attempt, duration, outcome, ...extra });
  }

  /** `workflow:exception`: an attempt of a step failed (beside its `step:retry` or `step:exception`). */
  exception(run: WorkflowRun, step: string, ctx: JobContext<unknown>, duration: number, outcome: 'retry' | 'failed', error: unknown): void {
    this.ports.events.emit('workflow:exception', {
      runId: run.id,
      workflow: run.workflow,
      step,
      jobId: ctx.id,
      attempt: ctx.attempt,
      maxAttempts: ctx.maxAttempts,
      duration,
      outcome,
      error,
      kind: ctx.abortReason === 'timeout' ? 'timeout' : 'error',
    });
  }
}
