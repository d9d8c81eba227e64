import { Logger } from '@nestjs/common';
import { exponentialBackoff } from '../execution/backoff.js';
import { compileSchedule, type ScheduleSpec } from '../schedule/schedule-spec.js';
import { DEFAULT_QUEUE } from '../scheduler.constants.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { JobDefinition, ResolvedJobOptions, ScheduleEntry, SchedulerRegistry } from '../scheduler.registry.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import { displayInput } from '../discovery/scheduler.explorer.js';
import type { WorkflowDefinition } from './workflow.definition.js';
import type { WorkflowEngine } from './workflow.engine.js';
import { ROLLBACK_JOB, START_JOB, STEP_JOB } from './workflow.jobs.js';

const INTERNAL_OPTIONS: ResolvedJobOptions = {
  queue: DEFAULT_QUEUE,
  priority: 0,
  timeout: null,
  maxAttempts: 4,
  backoff: (attempt) => exponentialBackoff(attempt),
  // A step's retries are the engine's (it reports them as step events): never the error class's.
  explicit: { maxRetries: true, backoff: true },
  unique: null,
  overlap: 'allow',
  misfire: 'runOnce',
  tags: [],
  meta: {},
  middleware: [],
  circuitBreaker: null,
  rateLimit: null,
  // The engine's own jobs are short and never reach a checkpoint; a step's handler may, through its context.
  preemptible: 'suspend',
};

/**
 * Registers the jobs the engine runs on (steps, rollbacks, starts) and the
 * `@Workflow` classes found at bootstrap; throws on a duplicate workflow name.
 * @internal
 */
export function setupWorkflows(engine: WorkflowEngine, registry: SchedulerRegistry, events: Pick<SchedulerEvents, 'on'>): void {
  const internal = (name: string, run: JobDefinition['run']): JobDefinition => ({
    name,
    source: 'workflows',
    kind: 'method',
    run,
    options: INTERNAL_OPTIONS,
    internal: true,
  });
  registry.addDefinition(internal(STEP_JOB, (ctx) => engine.runStep(ctx)));
  registry.addDefinition(internal(ROLLBACK_JOB, (ctx) => engine.rollback.runChain(ctx)));
  registry.addDefinition(
    internal(START_JOB, async (ctx) => {
      const args = ctx.args as { runId?: string; workflow?: string };
      if (args.runId) return engine.startScheduled(args.runId);
      const def = engine.definition(String(args.workflow));
      if (!def) throw new Error(`workflow "${String(args.workflow)}" is not registered on this node`);
      return { runId: (await engine.start(def, {})).id };
    }),
  );
  for (const def of registry.workflows) {
    if (engine.definitions.has(def.name)) {
      throw new SchedulerConfigError(def.source, 'name', `duplicate workflow name "${def.name}" (also used by ${engine.definitions.get(def.name)!.source})`);
    }
    addWorkflow(engine, registry, def);
  }
  // A step job that died without its step hearing of it (a last attempt that
  // timed out, a node that died on it): its failure policy applies here.
  const dead = (job: { id: string; name: string; args: unknown }, error: unknown) => {
    if (job.name !== STEP_JOB) return;
    engine.stepJobDead(job.id, job.args, error).catch((e: unknown) => new Logger('Scheduler').error(`workflow step ${job.id}: ${String(e)}`));
  };
  events.on('job:exception', (e) => e.outcome === 'dead' && dead(e.job, e.error));
  events.on('job:rescue', (e) => e.job.state === 'dead' && dead(e.job, new Error('its node stopped heartbeating on the last attempt')));
}

/**
 * Registers a workflow; one with a schedule gets a schedule named `workflow:<name>` that starts a run per tick.
 * @internal
 */
export function addWorkflow(engine: WorkflowEngine, registry: SchedulerRegistry, def: WorkflowDefinition): ScheduleEntry | null {
  engine.define(def);
  if (!def.schedule) return null;
  const { startAt, endAt, ...when } = def.schedule;
  const base = compileSchedule(when, def.source);
  if (!base) return null;
  const entry: ScheduleEntry = {
    name: `workflow:${def.name}`,
    handler: registry.definition(START_JOB),
    spec: within(base, startAt, endAt),
    options: { ...INTERNAL_OPTIONS, queue: def.steps.get(def.order[0]!)!.queue, overlap: 'allow' },
    origin: 'static',
    input: displayInput(when),
    args: { workflow: def.name },
  };
  registry.replaceSchedule(entry);
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
