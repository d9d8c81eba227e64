import type { JsonObject } from '../common/json.js';
import { InvalidArgumentError, JobNotFoundError, SchedulerConfigError } from '../scheduler.errors.js';
import type { WorkflowFacadePorts } from '../composition/scheduler.ports.js';
import { WorkflowBuilder } from './workflow.builder.js';
import type { WorkflowDefinition } from './workflow.definition.js';
import { toMermaid, toTable } from './workflow.render.js';
import { checkDate, DEFAULT_MAX_PAYLOAD_BYTES } from '../store/job-input.validation.js';
import { storableJson } from '../store/json-value.validation.js';
import { shown } from '../common/shown.js';
import type { StepRun, WorkflowRun, WorkflowRunState, WorkflowSchedule } from './workflow.types.js';

/**
 * A registered workflow, as `listAll()` shows it.
 * @publicApi
 */
export interface WorkflowInfo {
  name: string;
  version: string;
  source: string;
  steps: string[];
  schedule: WorkflowSchedule | null;
}

/**
 * What `summary(name)` returns.
 * @publicApi
 */
export interface WorkflowSummary extends WorkflowInfo {
  /** Runs by state (of the last 1,000). */
  runs: Record<WorkflowRunState, number>;
}

const ACTIVE: WorkflowRunState[] = ['scheduled', 'running', 'paused'];

/**
 * `scheduler.workflows`: start, schedule, pause, resume and cancel runs of
 * `@Workflow` classes or workflows defined at runtime, and look at them.
 * @publicApi
 */
export class Workflows {
  /** @internal */
  constructor(private readonly scheduler: () => WorkflowFacadePorts) {}

  private get s(): WorkflowFacadePorts {
    return this.scheduler();
  }

  private context(context: unknown): JsonObject {
    return jsonContext(context, this.s.store.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
  }

  private def(name: string): WorkflowDefinition {
    const def = typeof name === 'string' ? this.s.engine.definition(name) : undefined;
    if (!def) throw new JobNotFoundError(String(name), 'workflow');
    return def;
  }

  private async run(runId: string): Promise<WorkflowRun> {
    const run = typeof runId === 'string' ? await this.s.store.getRun(runId) : null;
    if (!run) throw new JobNotFoundError(String(runId), 'workflow run');
    return run;
  }

  /** Starts a run now with `context`; resolves to its id. */
  async start(name: string, context: JsonObject = {}): Promise<string> {
    const def = this.def(name);
    return (await this.s.engine.start(def, this.context(context))).id;
  }

  /** Creates a run that starts at `at`; resolves to its id. */
  async scheduleExecution(name: string, options: { context?: JsonObject; at: Date }): Promise<string> {
    const def = this.def(name);
    // Checked as a job's run time is (years 1 to 9999) before the run is created: its start job could not be stored otherwise, and the run would wait forever.
    checkDate('at', options?.at);
    return (await this.s.engine.start(def, this.context(options.context ?? {}), options.at)).id;
  }

  /** No new step starts; running steps finish. */
  async pause(runId: string): Promise<WorkflowRun> {
    await this.run(runId);
    let changed = false;
    const run = await this.s.store.updateRun(runId, this.now(), (r) => {
      changed = false; // a store may call mutate again when the run changed before its save: only the last call counts
      if (r.state !== 'running' && r.state !== 'scheduled') return null;
      changed = true;
      return { ...r, state: 'paused' };
    });
    // The store answers the unchanged run when nothing changed: a paused run is not paused again.
    if (!changed || run?.state !== 'paused') throw new InvalidArgumentError('runId', `run ${runId} is not running`);
    this.s.engine.emitRun('workflow:pause', run, 'paused');
    return run;
  }

  /** Resumes a paused run, merging `context` into its context first. */
  async resume(runId: string, options: { context?: JsonObject } = {}): Promise<WorkflowRun> {
    await this.run(runId);
    const extra = this.context(options.context ?? {});
    let changed = false;
    const run = await this.s.store.updateRun(runId, this.now(), (r) => {
      changed = false; // only the last call of mutate counts
      if (r.state !== 'paused') return null;
      changed = true;
      // Steps whose jobs were handed back while paused are queued again by advance().
      const steps = Object.fromEntries(Object.entries(r.steps).map(([k, sr]) => [k, sr.state === 'pending' ? { ...sr, jobId: null } : sr]));
      // A run paused before its time keeps waiting for it (its start job is still queued).
      const waiting = r.runAt !== null && r.runAt.getTime() > this.s.clock.now() && Object.values(r.steps).every((sr) => sr.attempts === 0);
      return { ...r, state: waiting ? 'scheduled' : 'running', context: { ...r.context, ...extra }, steps };
    });
    if (!changed || (run?.state !== 'running' && run?.state !== 'scheduled')) throw new InvalidArgumentError('runId', `run ${runId} is not paused`);
    this.s.engine.emitRun('workflow:resume', run, 'resumed');
    await this.s.engine.advance(runId);
    return (await this.s.store.getRun(runId))!;
  }

  /**
   * Runs a failed run again from where it failed: the steps that failed go
   * back to pending (their attempt counts kept, the new attempts counted
   * after them), completed steps keep their outputs, and the run is running
   * again (`workflow:resume`). Refused with `InvalidArgumentError` for a run
   * that has not failed, one whose workflow is not registered here or changed
   * version since it started, and one whose rollback compensated a completed
   * step, is at work, or has still to pass one: start a new run then.
   */
  async retry(runId: string): Promise<WorkflowRun> {
    const current = await this.run(runId);
    const def = this.s.engine.definition(current.workflow);
    let refusal: string | null = null;
    const run = await this.s.store.updateRun(runId, this.now(), (r) => {
      refusal = retryRefusal(r, def);
      if (refusal) return null;
      const steps = Object.fromEntries(
        Object.entries(r.steps).map(([name, sr]) => {
          if (sr.state === 'failed') return [name, { ...sr, state: 'pending', error: null, jobId: null, startedAt: null, finishedAt: null, rollback: null }];
          // A completed step the rollback chain passed with nothing to compensate: it is passed again should the run fail again.
          return [name, sr.state === 'completed' && sr.rollback === 'done' ? { ...sr, rollback: null } : sr];
        }),
      ) as WorkflowRun['steps'];
      return { ...r, state: 'running', error: null, finishedAt: null, steps };
    });
    if (refusal || run?.state !== 'running') throw new InvalidArgumentError('runId', `run ${runId} cannot be retried: ${refusal ?? 'it changed meanwhile'}`);
    this.s.engine.emitRun('workflow:resume', run, 'resumed');
    await this.s.engine.advance(runId);
    return (await this.s.store.getRun(runId))!;
  }

  /**
   * Cancels a run: no step starts any more, running steps are aborted
   * (reason `cancel`), and with `rollback: true` completed steps are
   * compensated in reverse order. @default rollback false
   */
  async cancel(runId: string, options: { reason?: string; rollback?: boolean } = {}): Promise<WorkflowRun> {
    await this.run(runId);
    const reason = options.reason ?? 'cancelled';
    let changed = false;
    const run = await this.s.store.updateRun(runId, this.now(), (r) => {
      changed = false; // only the last call of mutate counts
      if (!ACTIVE.includes(r.state)) return null;
      changed = true;
      // The compensation owed is written with the cancel, so the repair sweep queues the chain should this node die before it does.
      const steps = options.rollback ? markForRollback(r.steps) : r.steps;
      return { ...r, state: 'cancelled', error: reason, finishedAt: this.now(), steps };
    });
    // A run cancelled already is answered unchanged by the store: it has ended, and is not cancelled (nor rolled back) twice.
    if (!changed || run?.state !== 'cancelled') throw new InvalidArgumentError('runId', `run ${runId} has already ended`);
    for (const sr of Object.values(run.steps)) {
      if (sr.jobId && /^\d+$/.test(sr.jobId) && (sr.state === 'running' || sr.state === 'pending')) await this.cancelStepJob(sr.jobId, reason);
    }
    this.s.engine.finish(run, 'workflow:cancel', 'cancelled', reason);
    if (options.rollback) await this.s.engine.rollback.begin(run);
    return run;
  }

  private async cancelStepJob(jobId: string, reason: string): Promise<void> {
    const before = await this.s.store.cancel(jobId, this.now(), reason);
    if (before?.state === 'running') await this.s.notifier.notify({ type: 'cancel', jobId });
  }

  /** A run's state: its context and each step's state, output and attempts. */
  async getState(runId: string): Promise<WorkflowRun> {
    return this.run(runId);
  }

  /** Runs not yet ended (scheduled, running, paused), optionally of one workflow. */
  async listRunning(name?: string): Promise<WorkflowRun[]> {
    if (name !== undefined) this.def(name);
    return this.s.store.listRuns({ workflow: name, states: ACTIVE });
  }

  /** Every registered workflow. */
  listAll(): WorkflowInfo[] {
    return [...this.s.engine.definitions.values()].map(info);
  }

  /** A workflow's definition and how its recent runs ended. */
  async summary(name: string): Promise<WorkflowSummary> {
    const def = this.def(name);
    const runs: Record<WorkflowRunState, number> = { scheduled: 0, running: 0, paused: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const run of await this.s.store.listRuns({ workflow: name, limit: 1_000 })) runs[run.state]++;
    return { ...info(def), runs };
  }

  /** A Mermaid flowchart of a workflow, or of a run with each step's state marked. */
  async toMermaid(nameOrRunId: string): Promise<string> {
    const { def, run } = await this.resolve(nameOrRunId);
    return toMermaid(def, run);
  }

  /** A plain-text table of a workflow's steps, or of a run's. */
  async toTable(nameOrRunId: string): Promise<string> {
    const { def, run } = await this.resolve(nameOrRunId);
    return toTable(def, run);
  }

  /** Starts a workflow assembled at runtime: `define(name).step(…).schedule(…).register()`. */
  define(name: string): WorkflowBuilder {
    const s = this.s;
    if (typeof name !== 'string' || name === '') throw new SchedulerConfigError('workflows.define', 'name', `expected a workflow name, got ${shown(name)}`);
    if (s.engine.definition(name)) throw new SchedulerConfigError(`workflows.define(${name})`, 'name', `a workflow named "${name}" already exists`);
    return new WorkflowBuilder(
      name,
      (def) => s.register(def),
      (handler) => {
        const definition = s.registry.findDefinition(handler);
        return definition && (async (ctx) => definition.run(ctx));
      },
      s.queueNames,
    );
  }

  private async resolve(nameOrRunId: string): Promise<{ def: WorkflowDefinition; run?: WorkflowRun }> {
    const byName = this.s.engine.definition(nameOrRunId);
    if (byName) return { def: byName };
    const run = await this.run(nameOrRunId);
    return { def: this.def(run.workflow), run };
  }

  private now(): Date {
    return new Date(this.s.clock.now());
  }
}

/** Why a run cannot be retried in place, or `null` when it can. */
function retryRefusal(run: WorkflowRun, def: WorkflowDefinition | undefined): string | null {
  if (run.state !== 'failed') return `it is ${run.state}, not failed`;
  if (!def) return `workflow "${run.workflow}" is not registered on this node`;
  if (def.version !== run.version) return `workflow "${run.workflow}" is at version ${def.version}, the run started at ${run.version}`;
  for (const [name, sr] of Object.entries(run.steps)) {
    if (sr.state === 'rolled_back' || sr.rollback === 'failed' || sr.rollback === 'running') return `its rollback reached step ${name}`;
    if (sr.state === 'completed' && sr.rollback === null && def.steps.get(name)?.runRollback) return `its rollback has still to compensate step ${name}`;
  }
  return null;
}

function info(def: WorkflowDefinition): WorkflowInfo {
  return { name: def.name, version: def.version, source: def.source, steps: [...def.order], schedule: def.schedule ?? null };
}

/**
 * A run's context as every store keeps it: a JSON object without U+0000 or a
 * lone surrogate, within `maxPayloadBytes` (a copy that shares nothing with
 * the caller's). @throws InvalidArgumentError, PayloadTooLargeError
 */
function jsonContext(context: unknown, maxPayloadBytes: number): JsonObject {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) throw new InvalidArgumentError('context', 'must be a JSON object');
  return JSON.parse(storableJson('context', context, maxPayloadBytes)) as JsonObject;
}

/**
 * The steps of a run cancelled with rollback, those completed and those
 * running marked to be compensated (a running one may still complete, its
 * work having returned before its abort).
 */
function markForRollback(steps: Record<string, StepRun>): Record<string, StepRun> {
  const owed = (sr: StepRun) => sr.state === 'running' || (sr.state === 'completed' && sr.rollback === null);
  return Object.fromEntries(Object.entries(steps).map(([name, sr]) => [name, owed(sr) ? { ...sr, rollbackIfCompleted: true } : sr]));
}
