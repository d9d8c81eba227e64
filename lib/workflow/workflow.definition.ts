import { createHash } from 'node:crypto';
import { parseDuration } from '../common/duration.js';
import type { JsonObject } from '../common/json.js';
import type { OptionFailure } from '../common/option-failure.js';
import { validateJobName } from '../discovery/names.js';
import { compileSchedule } from '../schedule/schedule-spec.js';
import { DEFAULT_QUEUE } from '../scheduler.constants.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import { DEFAULT_STEP_MAX_RETRIES, DEFAULT_STEP_TIMEOUT } from './workflow.constants.js';
import type { StepContext, StepErrorPolicy, StepOptions, WorkflowSchedule } from './workflow.types.js';
import { shown } from '../common/shown.js';

/**
 * A validated step, with defaults applied.
 * @publicApi
 */
export interface StepDefinition {
  name: string;
  /** Steps that must all finish first. */
  after: string[];
  /** Steps of which the first to finish is enough. */
  afterAny: string[];
  when?: (context: JsonObject) => boolean;
  /** The compensating method's (or function's) name, for display. */
  rollback?: string;
  run(ctx: StepContext): Promise<unknown>;
  runRollback?(ctx: StepContext): Promise<unknown>;
  /** Milliseconds, or `null` for none. @default 5 minutes */
  timeout: number | null;
  maxRetries: number;
  onError: StepErrorPolicy;
  queue: string;
  priority: number;
}

/**
 * A validated workflow: its steps, their order and its schedule.
 * @publicApi
 */
export interface WorkflowDefinition {
  name: string;
  version: string;
  /** Class name (or `workflows.define(name)`) for messages. */
  source: string;
  /** In declaration order. */
  steps: Map<string, StepDefinition>;
  /** A topological order of the steps (declaration order among equals). */
  order: string[];
  schedule?: WorkflowSchedule;
}

/**
 * A step as given to {@link buildWorkflowDefinition}, before validation.
 * @internal
 */
export interface StepInput extends Omit<StepOptions, 'name'> {
  name: string;
  run(ctx: StepContext): Promise<unknown>;
  runRollback?(ctx: StepContext): Promise<unknown>;
}

const ERROR_POLICIES: ReadonlySet<string> = new Set<StepErrorPolicy>(['fail', 'skip', 'continue']);

/**
 * Validates a workflow and builds its definition. Throws a `SchedulerConfigError`
 * whose source is `${source}.${step}` (or `source` for workflow-level options) for:
 * a bad workflow name or version, no steps, an empty or duplicate step name, an
 * unknown name in `after`/`afterAny`, a `rollback` without its function, a cycle
 * (naming the steps on it), a step in both `after` and `afterAny`, a bad `timeout`,
 * `maxRetries`, `onError`, `queue` (must be in `queues` unless that is `null`),
 * `priority` or `when`, and an invalid schedule. Both `after` and `afterAny` edges
 * count for cycles and for `order`. A `timeout` of `null` means no timeout.
 * @internal
 */
export function buildWorkflowDefinition(
  input: { name: string; version?: string; source: string; steps: StepInput[]; schedule?: WorkflowSchedule },
  queues: ReadonlySet<string> | null,
): WorkflowDefinition {
  const { source } = input;
  const failAt =
    (where: string): OptionFailure =>
    (option, detail) => {
      throw new SchedulerConfigError(where, option, detail);
    };
  validateJobName(input.name, failAt(source));
  if (!Array.isArray(input.steps) || input.steps.length === 0) failAt(source)('steps', 'a workflow needs at least one step');
  const steps = new Map<string, StepDefinition>();
  input.steps.forEach((step, index) => {
    validateJobName(step.name, (option, detail) => failAt(source)(option, `step #${index + 1}: ${detail}`));
    if (steps.has(step.name)) failAt(`${source}.${step.name}`)('name', `duplicate step name "${step.name}"`);
    steps.set(step.name, resolveStep(step, failAt(`${source}.${step.name}`), queues));
  });
  for (const step of steps.values()) {
    const fail = failAt(`${source}.${step.name}`);
    for (const option of ['after', 'afterAny'] as const) {
      for (const dep of step[option]) {
        if (!steps.has(dep)) fail(option, `unknown step "${dep}" (steps: ${[...steps.keys()].join(', ')})`);
      }
    }
    const both = step.after.find((dep) => step.afterAny.includes(dep));
    if (both !== undefined) fail('afterAny', `"${both}" is also in "after"; list it in only one of them`);
  }
  const order = topologicalOrder(steps, source);
  const version = input.version ?? defaultVersion(steps);
  if (typeof version !== 'string' || version.trim() === '') failAt(source)('version', 'must be a non-empty string');
  const definition: WorkflowDefinition = { name: input.name, version, source, steps, order };
  if (input.schedule !== undefined) definition.schedule = validateSchedule(input.schedule, source, failAt(source));
  return definition;
}

function resolveStep(step: StepInput, fail: OptionFailure, queues: ReadonlySet<string> | null): StepDefinition {
  if (typeof step.run !== 'function') fail('run', 'must be a function');
  const after = dependencies(step.after, 'after', fail);
  const afterAny = dependencies(step.afterAny, 'afterAny', fail);
  if (step.when !== undefined && typeof step.when !== 'function') fail('when', 'must be a function (context) => boolean');
  if (step.rollback !== undefined && (typeof step.rollback !== 'string' || step.rollback.trim() === '')) fail('rollback', 'must be a non-empty name');
  if (step.rollback !== undefined && typeof step.runRollback !== 'function') fail('rollback', `unknown rollback "${step.rollback}"`);
  if (step.runRollback !== undefined && typeof step.runRollback !== 'function') fail('rollback', 'must be a function');
  const timeoutInput = step.timeout as StepOptions['timeout'] | null;
  let timeout: number | null = null;
  if (timeoutInput !== null) {
    try {
      timeout = parseDuration(timeoutInput ?? DEFAULT_STEP_TIMEOUT);
    } catch (error) {
      fail('timeout', (error as Error).message);
    }
    if (timeout! <= 0) fail('timeout', 'must be greater than zero');
  }
  const maxRetries = step.maxRetries ?? DEFAULT_STEP_MAX_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) fail('maxRetries', `must be a non-negative integer, got ${String(maxRetries)}`);
  const onError = step.onError ?? 'fail';
  if (!ERROR_POLICIES.has(onError)) fail('onError', `must be 'fail', 'skip' or 'continue', got ${shown(onError)}`);
  const queue = step.queue ?? DEFAULT_QUEUE;
  if (typeof queue !== 'string' || queue.trim() === '') fail('queue', 'must be a non-empty string');
  if (queues && !queues.has(queue)) fail('queue', `unknown queue "${queue}"; configured queues: ${[...queues].join(', ') || '(none)'}`);
  const priority = step.priority ?? 0;
  if (!Number.isInteger(priority) || priority < 0 || priority > 9) fail('priority', `must be an integer from 0 to 9, got ${String(priority)}`);
  const definition: StepDefinition = { name: step.name, after, afterAny, run: step.run, timeout, maxRetries, onError, queue, priority };
  if (step.when) definition.when = step.when;
  if (step.runRollback) {
    definition.runRollback = step.runRollback;
    definition.rollback = step.rollback ?? (step.runRollback.name || 'rollback');
  }
  return definition;
}

/** `undefined | string | string[]` → a list without repeats. */
function dependencies(value: unknown, option: string, fail: OptionFailure): string[] {
  if (value === undefined) return [];
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [value];
  for (const item of list) if (typeof item !== 'string' || item === '') fail(option, `must be a step name or a list of them, got ${shown(item)}`);
  return [...new Set(list as string[])];
}

/** Kahn's algorithm, picking the earliest declared ready step each time; a cycle is reported with its steps. */
function topologicalOrder(steps: Map<string, StepDefinition>, source: string): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  const remaining = [...steps.values()];
  while (remaining.length > 0) {
    const index = remaining.findIndex((step) => [...step.after, ...step.afterAny].every((dep) => placed.has(dep)));
    if (index < 0) throw cycleError(remaining, steps, source);
    const [step] = remaining.splice(index, 1);
    order.push(step!.name);
    placed.add(step!.name);
  }
  return order;
}

function cycleError(remaining: StepDefinition[], steps: Map<string, StepDefinition>, source: string): SchedulerConfigError {
  const left = new Set(remaining.map((step) => step.name));
  // Every remaining step waits for another remaining step: walk until a step repeats.
  const path: string[] = [];
  let current = remaining[0]!;
  while (!path.includes(current.name)) {
    path.push(current.name);
    const next = [...current.after, ...current.afterAny].find((dep) => left.has(dep))!;
    current = steps.get(next)!;
  }
  const cycle = path.slice(path.indexOf(current.name));
  const first = steps.get(cycle[0]!)!;
  const option = first.after.includes(cycle[1] ?? cycle[0]!) ? 'after' : 'afterAny';
  // path follows "waits for" edges; show it in run order: a -> b means b runs after a.
  const shown = [...cycle, cycle[0]!].reverse().join(' -> ');
  return new SchedulerConfigError(`${source}.${first.name}`, option, `dependency cycle: ${shown}`);
}

/** sha1 (12 hex) of the DAG's shape: names, dependencies, rollbacks and error policies; not of functions. */
function defaultVersion(steps: Map<string, StepDefinition>): string {
  const shape = [...steps.values()]
    .map((s) => [s.name, [...s.after].sort(), [...s.afterAny].sort(), s.rollback ?? null, s.onError])
    .sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
  return createHash('sha1').update(JSON.stringify(shape)).digest('hex').slice(0, 12);
}

function validateSchedule(schedule: WorkflowSchedule, source: string, fail: OptionFailure): WorkflowSchedule {
  if (typeof schedule !== 'object' || schedule === null || Array.isArray(schedule)) fail('schedule', 'must be an object');
  const spec = compileSchedule({ cron: schedule.cron, zone: schedule.zone, every: schedule.every, at: schedule.at }, source);
  if (!spec) fail('schedule', 'needs one of cron, every, at');
  const bound = (option: 'startAt' | 'endAt'): number | undefined => {
    const value = schedule[option];
    if (value === undefined) return undefined;
    try {
      return compileSchedule({ at: value }, source)!.next(-Infinity)!;
    } catch {
      return fail(option, `expected a valid Date or an ISO-8601 string with a time zone, got ${shown(value)}`);
    }
  };
  const startAt = bound('startAt');
  const endAt = bound('endAt');
  if (startAt !== undefined && endAt !== undefined && startAt >= endAt) fail('endAt', 'must be after startAt');
  return { ...schedule };
}
