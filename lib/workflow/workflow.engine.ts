import { Logger } from '@nestjs/common';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { JsonObject } from '../common/json.js';
import type { JobContext } from '../execution/job-context.js';
import { DiscardJobError, WorkflowVersionMismatchError } from '../scheduler.errors.js';
import type { NewJob } from '../store/job.types.js';
import type { WorkflowEvent } from '../telemetry/scheduler.events.js';
import type { WorkflowDefinition } from './workflow.definition.js';
import { initialSteps, progress, QUEUED } from './workflow.progress.js';
import { WorkflowRollback } from './workflow.rollback.js';
import { WorkflowEmitter, type WorkflowPorts } from './workflow.ports.js';
import { START_JOB, STEP_JOB, internalJob } from './workflow.jobs.js';
import type { StepContext, WorkflowRun } from './workflow.types.js';
import { storableMessage, storableResult } from '../store/storable-output.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../store/job-input.validation.js';
import { safeErrorText } from '../execution/job-errors.js';
import { untilWritten } from './until-written.js';

/**
 * Arguments of a step job.
 * @internal
 */
export interface StepJobArgs {
  runId: string;
  step: string;
}

/**
 * Runs workflows on top of jobs. A run lives in the store; every change to
 * it goes through `store.updateRun` (serialised per run across nodes), and
 * every step runs as a job with its own retries, timeout, queue and span, so
 * runs survive restarts and spread over nodes. Decisions are made in
 * {@link progress} (pure); this class does the I/O around them.
 * @internal
 */
export class WorkflowEngine {
  private readonly known = new Map<string, WorkflowDefinition>();
  private readonly logger = new Logger('Scheduler');
  /** Workflow spans started on this node, ended here when the run ends here (or at shutdown). */
  private readonly spans = new Map<string, Span>();
  readonly rollback: WorkflowRollback;
  private readonly emit: WorkflowEmitter;

  constructor(private readonly s: WorkflowPorts) {
    this.emit = new WorkflowEmitter(s);
    this.rollback = new WorkflowRollback(s, this.known, this.emit);
  }

  private now(): Date {
    return new Date(this.s.clock.now());
  }

  /** The registered workflows, by name. */
  get definitions(): ReadonlyMap<string, WorkflowDefinition> {
    return this.known;
  }

  /** Registers (or replaces) a workflow. */
  define(def: WorkflowDefinition): void {
    this.known.set(def.name, def);
  }

  definition(name: string): WorkflowDefinition | undefined {
    return this.known.get(name);
  }

  /** Creates a run and starts its first steps (or waits for `runAt`). */
  async start(def: WorkflowDefinition, context: JsonObject, runAt?: Date): Promise<WorkflowRun> {
    const span = trace.getTracer('nestjs-scheduler').startSpan(`workflow ${def.name}`, {
      kind: SpanKind.INTERNAL,
      attributes: { 'workflow.name': def.name, 'workflow.version': def.version },
    });
    const ids = span.spanContext();
    const scheduled = runAt !== undefined && runAt.getTime() > this.s.clock.now();
    const run = await this.s.store.createRun(
      {
        workflow: def.name,
        version: def.version,
        state: scheduled ? 'scheduled' : 'running',
        context,
        steps: initialSteps(def),
        trace: trace.isSpanContextValid(ids) ? { traceId: ids.traceId, spanId: ids.spanId, traceFlags: ids.traceFlags } : null,
        runAt: runAt ?? null,
      },
      this.now(),
    );
    span.setAttribute('workflow.run_id', run.id);
    this.spans.set(run.id, span);
    if (scheduled) {
      await this.s.insert([{ ...internalJob(START_JOB, { runId: run.id }, run, def, runAt!) }]);
      return run;
    }
    this.emitRun('workflow:start', run, 'started');
    await this.advance(run.id);
    return run;
  }

  /** Starts a run created as `scheduled` (its time has come). */
  async startScheduled(runId: string): Promise<void> {
    const run = await this.s.store.updateRun(runId, this.now(), (r) => (r.state === 'scheduled' ? { ...r, state: 'running' } : null));
    if (run?.state !== 'running') return;
    this.emitRun('workflow:start', run, 'started');
    await this.advance(runId);
  }

  /** Moves a run forward: skips what must be skipped, queues what can start, ends it when all is done. */
  async advance(runId: string): Promise<void> {
    let decided: ReturnType<typeof progress> | null = null;
    let mismatch: WorkflowVersionMismatchError | null = null;
    const run = await this.s.store.updateRun(runId, this.now(), (r) => {
      // A store may call mutate again when the run changed before its save (Redis): only the last call counts.
      decided = null;
      mismatch = null;
      const def = this.known.get(r.workflow);
      if (!def || r.state !== 'running') return null;
      if (!sameShape(def, r)) {
        mismatch = new WorkflowVersionMismatchError(r.workflow, r.version, def.version);
        return { ...r, state: 'failed', error: mismatch.message, finishedAt: this.now() };
      }
      decided = progress(def, r, this.now(), (step, error) => this.logger.warn(`${r.workflow}.${step}: "when" threw (${String(error)}); the step is skipped`));
      return decided.enqueue.length || decided.skipped.length || decided.completed ? r : null;
    });
    if (!run) return;
    if (mismatch) return this.finish(run, 'workflow:fail', 'failed', (mismatch as Error).message);
    const d = decided as ReturnType<typeof progress> | null;
    if (!d) return;
    for (const { step, reason } of d.skipped) this.emit.step('step:skip', run, step, 0, 0, 'skipped', { reason });
    await this.enqueueSteps(run, d.enqueue);
    if (d.completed) this.finish(run, 'workflow:stop', 'completed');
  }

  /** Inserts the jobs of queued steps; a duplicate (same run and step, still queued or running) is a no-op. */
  async enqueueSteps(run: WorkflowRun, steps: readonly string[]): Promise<void> {
    const def = this.known.get(run.workflow);
    if (!def || steps.length === 0) return;
    const jobs: NewJob[] = steps.map((name) => {
      const step = def.steps.get(name)!;
      return {
        ...internalJob(STEP_JOB, { runId: run.id, step: name }, run, def, this.now()),
        queue: step.queue,
        priority: step.priority,
        maxAttempts: step.maxRetries + 1,
        timeout: step.timeout,
        uniqueKey: `workflow:${run.id}:${name}`,
        meta: { workflow: run.workflow, step: name },
      };
    });
    await this.s.insert(jobs);
  }

  /** The job of one step. */
  async runStep(ctx: JobContext<unknown>): Promise<unknown> {
    const { runId, step } = ctx.args as StepJobArgs;
    const current = await this.s.store.getRun(runId);
    if (!current) return { skipped: 'run not found' };
    const def = this.known.get(current.workflow);
    // Another node may know this workflow (a rolling deploy): retry there.
    if (!def) throw new Error(`workflow "${current.workflow}" is not registered on this node`);
    if (!sameShape(def, current)) {
      await this.advance(runId);
      return { skipped: 'version mismatch' };
    }
    const stepDef = def.steps.get(step)!;
    let started: WorkflowRun | null = null;
    await this.s.store.updateRun(runId, this.now(), (r) => {
      started = null; // only the last call of mutate counts (see advance)
      const sr = r.steps[step]!;
      if (sr.state !== 'pending' && sr.state !== 'running') return null;
      if (r.state !== 'running') {
        // Paused or ended before the step began: it does not start; resume queues it again.
        return sr.state === 'pending' ? { ...r, steps: { ...r.steps, [step]: { ...sr, jobId: null } } } : null;
      }
      started = {
        ...r,
        steps: { ...r.steps, [step]: { ...sr, state: 'running', attempts: sr.attempts + 1, jobId: ctx.id, startedAt: this.now(), error: null } },
      };
      return started;
    });
    const run = started as WorkflowRun | null;
    if (!run) return { skipped: 'step not runnable' };
    // Later writes apply only while this attempt still owns the step (a late,
    // timed-out attempt must not undo what a newer one did).
    const mine = run.steps[step]!.attempts;
    const began = this.s.clock.now();
    this.emit.step('step:start', run, step, ctx.attempt, 0, 'started');
    const stepCtx = Object.assign(Object.create(ctx) as object, { runId, workflow: run.workflow, step, context: run.context }) as StepContext;
    let output: unknown;
    try {
      output = await stepDef.run(stepCtx);
      // Aborted (timeout, cancel, shutdown, lease lost): whatever it returned late does not count.
      if (ctx.signal.aborted) throw ctx.signal.reason;
    } catch (error) {
      return this.stepFailed(run, step, ctx, error, this.s.clock.now() - began, mine);
    }
    // Kept as a job's result is (sanitised, within maxPayloadBytes): a run the store refuses would retry a step that
    // succeeded. An output it cannot keep (not JSON, too large) fails the step with UnstorableResultError, as a result does.
    let merged: JsonObject | null = null;
    if (isPlainObject(output)) {
      try {
        merged = JSON.parse(storableResult(ctx.id, output, this.s.store.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES)!) as JsonObject;
      } catch (error) {
        return this.stepFailed(run, step, ctx, error, this.s.clock.now() - began, mine);
      }
    }
    let stale = false;
    const record = () =>
      this.s.store.updateRun(runId, this.now(), (r) => {
        stale = false; // only the last call of mutate counts (see advance)
        const seq = r.seq + 1;
        const sr = r.steps[step]!;
        // Written by an earlier try whose answer was lost (a commit cut off): it stands.
        if (sr.state === 'completed' && sr.attempts === mine) return null;
        if (sr.state !== 'running' || sr.attempts !== mine) {
          stale = true;
          return null;
        }
        return {
          ...r,
          seq,
          context: merged ? { ...r.context, ...merged } : r.context,
          steps: { ...r.steps, [step]: { ...sr, state: 'completed', output: merged, finishedAt: this.now(), completedSeq: seq } },
        };
      });
    // The step's work is done: a store that fails the write for a while is waited out (the job keeps
    // its heartbeat), since failing the attempt would run the step again, or fail its run.
    const done = await untilWritten(record, {
      clock: this.s.clock,
      signal: ctx.signal,
      logger: this.logger,
      what: () => `workflow run ${runId}: recording that step ${step} completed`,
    });
    if (stale) return { skipped: 'a newer attempt owns the step' };
    this.emit.step('step:stop', done ?? run, step, ctx.attempt, this.s.clock.now() - began, 'completed');
    if (done && (done.state === 'failed' || done.state === 'cancelled')) await this.rollback.lateCompletion(done);
    else await this.advance(runId);
    return output ?? null;
  }

  private async stepFailed(run: WorkflowRun, step: string, ctx: JobContext<unknown>, error: unknown, duration: number, mine: number): Promise<unknown> {
    const owns = (r: WorkflowRun) => r.steps[step]!.state === 'running' && r.steps[step]!.attempts === mine;
    // A DiscardJobError ends the step at once: no retry is coming.
    if (ctx.attempt < ctx.maxAttempts && !(error instanceof DiscardJobError)) {
      await this.s.store.updateRun(run.id, this.now(), (r) =>
        owns(r) ? { ...r, steps: { ...r.steps, [step]: { ...r.steps[step]!, state: 'pending', error: message(error) } } } : null,
      );
      if (!ctx.signal.aborted || ctx.abortReason === 'timeout') {
        this.emit.step('step:retry', run, step, ctx.attempt, duration, 'retry', { error });
        this.emit.exception(run, step, ctx, duration, 'retry', error);
      }
      throw error;
    }
    const outcome = await this.stepExhausted(run.id, step, error, (r) => owns(r));
    if (outcome === null) return { skipped: 'a newer attempt owns the step' };
    this.emit.step('step:exception', run, step, ctx.attempt, duration, 'failed', { error });
    this.emit.exception(run, step, ctx, duration, 'failed', error);
    if (outcome === 'fail') throw error;
    return { stepFailed: message(error) };
  }

  /**
   * A step's last attempt failed (thrown, timed out, or its node died): apply
   * its `onError` policy. `owns` says whether the failure still concerns the
   * step; resolves to the policy applied, or null when it did not.
   */
  async stepExhausted(runId: string, step: string, error: unknown, owns: (run: WorkflowRun) => boolean): Promise<'fail' | 'skip' | 'continue' | null> {
    const current = await this.s.store.getRun(runId);
    const def = current && this.known.get(current.workflow);
    if (!current || !def?.steps.has(step)) return null;
    const policy = def.steps.get(step)!.onError;
    const text = message(error);
    let applied = false;
    const updated = await this.s.store.updateRun(runId, this.now(), (r) => {
      applied = false; // only the last call of mutate counts (see advance)
      if (!owns(r)) return null;
      applied = true;
      const sr = r.steps[step]!;
      if (policy === 'skip')
        return { ...r, steps: { ...r.steps, [step]: { ...sr, state: 'skipped', skipReason: 'error', error: text, finishedAt: this.now() } } };
      const steps = { ...r.steps, [step]: { ...sr, state: 'failed' as const, error: text, finishedAt: this.now() } };
      // A paused run fails too: pausing holds new steps, not the policy.
      if (policy === 'continue' || (r.state !== 'running' && r.state !== 'paused')) return { ...r, steps };
      return { ...r, steps, state: 'failed', error: `step ${step} failed: ${text}`, finishedAt: this.now() };
    });
    if (!applied || !updated) return null;
    if (policy === 'skip') this.emit.step('step:skip', updated, step, 0, 0, 'skipped', { reason: 'error' });
    if (policy !== 'fail') {
      await this.advance(runId);
    } else if (updated.state === 'failed') {
      this.finish(updated, 'workflow:fail', 'failed', updated.error ?? text);
      await this.rollback.begin(updated);
    }
    return policy;
  }

  /**
   * A step's job died without the step recording it (its last attempt timed
   * out and the handler never returned, or its node died and the lifeline
   * gave up on it): the step's failure policy applies now.
   */
  async stepJobDead(jobId: string, args: unknown, error: unknown): Promise<void> {
    const { runId, step } = args as StepJobArgs;
    if (typeof runId !== 'string' || typeof step !== 'string') return;
    await this.stepExhausted(runId, step, error ?? new Error('the step job died'), (r) => {
      const sr = r.steps[step];
      return !!sr && (sr.state === 'running' || sr.state === 'pending') && (sr.jobId === jobId || sr.jobId === QUEUED);
    });
  }

  /** Ends a run's span (when it started here) and emits its final event. */
  finish(run: WorkflowRun, event: 'workflow:stop' | 'workflow:fail' | 'workflow:cancel', outcome: WorkflowEvent['outcome'], error?: string): void {
    this.emitRun(event, run, outcome, error);
    const span = this.spans.get(run.id);
    if (!span) return;
    this.spans.delete(run.id);
    span.setAttribute('workflow.outcome', outcome);
    if (outcome !== 'completed') span.setStatus({ code: SpanStatusCode.ERROR, message: error ?? outcome });
    span.end();
  }

  /** Ends the spans of runs still open here (at shutdown). */
  closeSpans(): void {
    for (const span of this.spans.values()) span.end();
    this.spans.clear();
  }

  emitRun(
    event: 'workflow:start' | 'workflow:stop' | 'workflow:fail' | 'workflow:pause' | 'workflow:resume' | 'workflow:cancel',
    run: WorkflowRun,
    outcome: WorkflowEvent['outcome'],
    error?: string,
  ): void {
    this.emit.run(event, run, outcome, error);
  }
}

/** The run was started under this definition: same version and the same steps. */
function sameShape(def: WorkflowDefinition, run: WorkflowRun): boolean {
  const names = Object.keys(run.steps);
  return def.version === run.version && names.length === def.order.length && def.order.every((name) => name in run.steps);
}

function message(error: unknown): string {
  return storableMessage(safeErrorText(error));
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}
