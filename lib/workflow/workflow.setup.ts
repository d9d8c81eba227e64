import { Logger } from '@nestjs/common';
import { exponentialBackoff } from '../execution/backoff.js';
import { compileSchedule, type ScheduleSpec } from '../schedule/schedule-spec.js';
import { DEFAULT_QUEUE } from '../scheduler.constants.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { SchedulerOrchestrator } from '../scheduler.orchestrator.js';
import type { JobDefinition, ResolvedJobOptions, ScheduleEntry } from '../scheduler.registry.js';
import { displayInput } from '../discovery/scheduler.explorer.js';
import type { WorkflowDefinition } from './workflow.definition.js';
import { WorkflowEngine } from './workflow.engine.js';
import { ROLLBACK_JOB, START_JOB, STEP_JOB } from './workflow.jobs.js';
import { QUEUED } from './workflow.progress.js';

const INTERNAL_OPTIONS: ResolvedJobOptions = {
  queue: DEFAULT_QUEUE,
  priority: 0,
  timeout: null,
  maxAttempts: 4,
  backoff: (attempt) => exponentialBackoff(attempt),
  unique: false,
  overlap: 'allow',
  misfire: 'runOnce',
  tags: [],
  meta: {},
  middleware: [],
};

/** Builds the workflow engine and registers the jobs it runs on (steps, rollbacks, starts). */
export function setupWorkflows(s: SchedulerOrchestrator): WorkflowEngine {
  const engine = new WorkflowEngine(s);
  const internal = (name: string, run: JobDefinition['run']): JobDefinition => ({ name, source: 'workflows', kind: 'method', run, options: INTERNAL_OPTIONS, internal: true });
  s.registry.addDefinition(internal(STEP_JOB, (ctx) => engine.runStep(ctx)));
  s.registry.addDefinition(internal(ROLLBACK_JOB, (ctx) => engine.rollback.runChain(ctx)));
  s.registry.addDefinition(
    internal(START_JOB, async (ctx) => {
      const args = ctx.args as { runId?: string; workflow?: string };
      if (args.runId) return engine.startScheduled(args.runId);
      const def = engine.definition(String(args.workflow));
      if (!def) throw new Error(`workflow "${String(args.workflow)}" is not registered on this node`);
      return { runId: (await engine.start(def, {})).id };
    }),
  );
  for (const def of s.registry.workflows) {
    if (engine.definitions.has(def.name)) {
      throw new SchedulerConfigError(def.source, 'name', `duplicate workflow name "${def.name}" (also used by ${engine.definitions.get(def.name)!.source})`);
    }
    addWorkflow(s, engine, def);
  }
  // A step job that died without its step hearing of it (a last attempt that
  // timed out, a node that died on it): its failure policy applies here.
  const dead = (job: { id: string; name: string; args: unknown }, error: unknown) => {
    if (job.name !== STEP_JOB) return;
    engine.stepJobDead(job.id, job.args, error).catch((e: unknown) => new Logger('Scheduler').error(`workflow step ${job.id}: ${String(e)}`));
  };
  s.events.on('job:exception', (e) => e.outcome === 'dead' && dead(e.job, e.error));
  s.events.on('job:rescue', (e) => e.job.state === 'dead' && dead(e.job, new Error('its node stopped heartbeating on the last attempt')));
  return engine;
}

/** Registers a workflow; one with a schedule gets a schedule named `workflow:<name>` that starts a run per tick. */
export function addWorkflow(s: SchedulerOrchestrator, engine: WorkflowEngine, def: WorkflowDefinition): ScheduleEntry | null {
  engine.definitions.set(def.name, def);
  if (!def.schedule) return null;
  const { startAt, endAt, ...when } = def.schedule;
  const base = compileSchedule(when, def.source);
  if (!base) return null;
  const entry: ScheduleEntry = {
    name: `workflow:${def.name}`,
    handler: s.registry.definition(START_JOB),
    spec: within(base, startAt, endAt),
    options: { ...INTERNAL_OPTIONS, queue: def.steps.get(def.order[0]!)!.queue, overlap: 'allow' },
    origin: 'static',
    input: displayInput(when),
    args: { workflow: def.name },
  };
  s.registry.replaceSchedule(entry);
  return entry;
}

/** A schedule limited to [startAt, endAt]. */
function within(spec: ScheduleSpec, startAt?: Date | string, endAt?: Date | string): ScheduleSpec {
  const from = startAt === undefined ? -Infinity : new Date(startAt).getTime();
  const to = endAt === undefined ? Infinity : new Date(endAt).getTime();
  if (from === -Infinity && to === Infinity) return spec;
  return {
    kind: spec.kind,
    description: `${spec.description}${startAt ? ` from ${new Date(from).toISOString()}` : ''}${endAt ? ` until ${new Date(to).toISOString()}` : ''}`,
    next(after) {
      const t = spec.next(Math.max(after, from - 1));
      return t === null || t > to ? null : t;
    },
    prev(atOrBefore) {
      const t = spec.prev(Math.min(atOrBefore, to));
      return t === null || t < from ? null : t;
    },
  };
}

/**
 * Leader's repair sweep: a step marked queued whose job insert was lost (a
 * crash between the two) is queued again; the unique (run, step) key makes
 * this a no-op when the job exists.
 */
export async function repairRuns(s: SchedulerOrchestrator, engine: WorkflowEngine): Promise<void> {
  // A step that completed just as its run's rollback chain ended is compensated by a new chain.
  for (const run of await s.store.listRuns({ states: ['failed'], limit: 1_000 })) {
    const def = engine.definition(run.workflow);
    // A run failed by a version mismatch is not compensated (documented).
    if (def?.version !== run.version) continue;
    if (Object.entries(run.steps).some(([name, sr]) => sr.state === 'completed' && sr.rollback === null && def?.steps.get(name)?.runRollback)) {
      await engine.rollback.begin(run);
    }
  }
  for (const run of await s.store.listRuns({ states: ['running'], limit: 1_000 })) {
    const queued = Object.entries(run.steps).filter(([, sr]) => sr.state === 'pending' && sr.jobId === QUEUED).map(([name]) => name);
    try {
      await engine.enqueueSteps(run, queued);
      await engine.advance(run.id);
    } catch (error) {
      new Logger('Scheduler').warn(`repairing workflow run ${run.id} failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}
