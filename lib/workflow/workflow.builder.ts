import { SchedulerConfigError } from '../scheduler.errors.js';
import { buildWorkflowDefinition, type StepInput, type WorkflowDefinition } from './workflow.definition.js';
import { shown } from '../common/shown.js';
import type { StepContext, StepOptions, WorkflowSchedule } from './workflow.types.js';

/**
 * A step's (or rollback's) work: receives the step context; a returned object is merged into the run's context.
 * @publicApi
 */
export type StepFunction = (ctx: StepContext) => unknown;

/**
 * Resolves the name of a registered job handler to something a step can run.
 * @internal
 */
export type StepHandlerResolver = (name: string) => ((ctx: StepContext) => Promise<unknown>) | undefined;

/**
 * Options of {@link WorkflowBuilder.step}: as `@Step`, but `rollback` may be a function or a job handler's name.
 * @publicApi
 */
export interface BuilderStepOptions extends Omit<StepOptions, 'name' | 'rollback'> {
  /** A function, or the name of a registered job handler, that compensates this step when the run fails. */
  rollback?: string | StepFunction;
}

/**
 * Assembles a workflow at runtime, step by step:
 *
 * ```ts
 * workflows.define('orders')
 *   .step('reserve', async (ctx) => ({ reservation: 'r1' }))
 *   .step('charge', 'payments.charge', { after: 'reserve', rollback: refund })
 *   .schedule({ cron: '0 * * * *' })
 *   .register();
 * ```
 *
 * Handler names are resolved when the step is added; all other validation
 * happens in {@link register} (see `buildWorkflowDefinition`). Messages name
 * `workflows.define(<name>)` (and the step).
 * @publicApi
 */
export class WorkflowBuilder {
  private readonly steps: StepInput[] = [];
  private scheduleInput?: WorkflowSchedule;
  private versionInput?: string;
  private registered = false;

  /** @internal */
  constructor(
    private readonly name: string,
    private readonly registerDefinition: (def: WorkflowDefinition) => void,
    private readonly resolveHandler: StepHandlerResolver,
    private readonly queues: ReadonlySet<string> | null,
  ) {}

  /** `workflows.define(<name>)`: the source named in error messages. */
  get source(): string {
    return `workflows.define(${this.name})`;
  }

  /** Adds a step running `fn`, or the registered job handler named `fn`. */
  step(name: string, fn: StepFunction | string, options: BuilderStepOptions = {}): this {
    if (typeof name !== 'string' || name === '') throw new SchedulerConfigError(this.source, 'step', `expected a step name, got ${shown(name)}`);
    const { rollback, ...rest } = options ?? {};
    const step: StepInput = { ...rest, name, run: this.toRunner(name, 'run', fn) };
    this.steps.push(step);
    if (rollback !== undefined) this.rollback(name, rollback);
    return this;
  }

  /** Sets the compensation of an added step: a function, or a registered job handler's name. */
  rollback(stepName: string, fn: StepFunction | string): this {
    const step = this.steps.find((s) => s.name === stepName);
    if (!step) throw new SchedulerConfigError(`${this.source}.${stepName}`, 'rollback', `no step named "${stepName}" was added before`);
    step.runRollback = this.toRunner(stepName, 'rollback', fn);
    step.rollback = typeof fn === 'string' ? fn : fn.name || 'rollback';
    return this;
  }

  /** Starts the workflow on its own (cron, every or at; optional startAt/endAt). */
  schedule(schedule: WorkflowSchedule): this {
    this.scheduleInput = schedule;
    return this;
  }

  /** Overrides the version (default: a hash of the DAG's shape). */
  version(version: string): this {
    this.versionInput = version;
    return this;
  }

  /** Validates, registers and returns the definition. Throws `SchedulerConfigError` for bad input or a second call. */
  register(): WorkflowDefinition {
    if (this.registered) throw new SchedulerConfigError(this.source, 'register', 'this workflow was already registered');
    const definition = buildWorkflowDefinition(
      { name: this.name, version: this.versionInput, source: this.source, steps: this.steps, schedule: this.scheduleInput },
      this.queues,
    );
    this.registerDefinition(definition);
    this.registered = true;
    return definition;
  }

  private toRunner(step: string, option: 'run' | 'rollback', fn: StepFunction | string): (ctx: StepContext) => Promise<unknown> {
    if (typeof fn === 'function') return async (ctx) => fn(ctx);
    const where = `${this.source}.${step}`;
    if (typeof fn !== 'string' || fn === '') throw new SchedulerConfigError(where, option, 'expected a function or the name of a registered job handler');
    const handler = this.resolveHandler(fn);
    if (!handler) throw new SchedulerConfigError(where, option, `no registered job handler named "${fn}"`);
    return handler;
  }
}
