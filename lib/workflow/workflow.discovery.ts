import { SchedulerConfigError } from '../scheduler.errors.js';
import { buildWorkflowDefinition, type StepInput, type WorkflowDefinition } from './workflow.definition.js';
import type { StepContext, StepOptions, WorkflowOptions } from './workflow.types.js';

type Method = (ctx: StepContext) => unknown;

/**
 * Builds the definition of one provider from its `@Workflow` options and
 * `@Step` methods (as the metadata accessor read them), with the step and
 * rollback methods bound to `instance`.
 * Returns `null` when the class has no `@Workflow` (and no `@Step`).
 * Throws a `SchedulerConfigError` naming `ClassName.method` for a `@Step` in a
 * class without `@Workflow`, a `rollback` that is not a method of the class
 * (or is itself a step), and anything {@link buildWorkflowDefinition} rejects.
 * `queues` is the set of configured queues, or `null` when unknown.
 * @internal
 */
export function exploreWorkflow(
  instance: object,
  className: string,
  metadata: { workflow?: WorkflowOptions; steps: readonly { method: string; options: StepOptions }[] },
  queues: ReadonlySet<string> | null,
): WorkflowDefinition | null {
  const { workflow, steps: decorated } = metadata;
  const methods = instance as Record<string, unknown>;
  if (!workflow) {
    if (decorated.length === 0) return null;
    throw new SchedulerConfigError(
      `${className}.${decorated[0]!.method}`,
      'Step',
      `@Step is only allowed in a class decorated with @Workflow; add @Workflow({ name }) to ${className}`,
    );
  }
  if (typeof workflow !== 'object') throw new SchedulerConfigError(className, 'Workflow', 'expected an options object with a name');
  const stepMethods = new Set(decorated.map((m) => m.method));
  const steps = decorated.map(({ method, options }): StepInput => {
    const fn = methods[method] as Method;
    const { rollback, ...rest } = options;
    const step: StepInput = { ...rest, name: options.name ?? method, run: async (ctx) => fn.call(instance, ctx) };
    if (rollback !== undefined) {
      const source = `${className}.${method}`;
      const compensate = typeof rollback === 'string' ? methods[rollback] : undefined;
      if (typeof compensate !== 'function') {
        throw new SchedulerConfigError(
          source,
          'rollback',
          `unknown method ${JSON.stringify(rollback) ?? String(rollback)}: it must name a method of ${className}`,
        );
      }
      if (stepMethods.has(rollback as string)) {
        throw new SchedulerConfigError(source, 'rollback', `"${String(rollback)}" is a @Step; a rollback must be a plain method`);
      }
      step.rollback = rollback;
      step.runRollback = async (ctx) => (compensate as Method).call(instance, ctx);
    }
    return step;
  });
  return buildWorkflowDefinition({ name: workflow.name, version: workflow.version, source: className, steps, schedule: workflow.schedule }, queues);
}
