import { Injectable, SetMetadata, applyDecorators } from '@nestjs/common';
import { STEP_METADATA, WORKFLOW_METADATA } from './workflow.constants.js';
import type { StepOptions, WorkflowOptions } from './workflow.types.js';

/**
 * Marks a class as a workflow (and as `@Injectable()`). Its `@Step` methods
 * are the steps; the options are validated at bootstrap, not here.
 *
 * ```ts
 * @Workflow({ name: 'orders' })
 * class OrderWorkflow {
 *   @Step() reserve(ctx: StepContext) {}
 *   @Step({ after: 'reserve', rollback: 'refund' }) charge(ctx: StepContext) {}
 *   refund(ctx: StepContext) {}
 * }
 * ```
 * @publicApi
 */
export function Workflow(options: WorkflowOptions): ClassDecorator {
  return applyDecorators(Injectable(), SetMetadata(WORKFLOW_METADATA, options));
}

/**
 * Marks a method of a `@Workflow` class as a step. The step name defaults to
 * the method name; the method receives a `StepContext`, and a returned
 * object is merged into the run's context.
 * @publicApi
 */
export function Step(options: StepOptions = {}): MethodDecorator {
  return SetMetadata(STEP_METADATA, options);
}
