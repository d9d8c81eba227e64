import { Injectable } from '@nestjs/common';
import { MetadataScanner, Reflector } from '@nestjs/core';
import type { ScheduledOptions, WorkerOptions } from '../decorators/job-options.js';
import { BATCH_METADATA, SCHEDULED_METADATA, WORKER_METADATA } from '../scheduler.constants.js';
import type { BatchWorkerOptions } from '../batch/batch.types.js';
import { STEP_METADATA, WORKFLOW_METADATA } from '../workflow/workflow.constants.js';
import type { StepOptions, WorkflowOptions } from '../workflow/workflow.types.js';

/**
 * A decorated method and the options its decorator wrote.
 * @internal
 */
export interface DecoratedMethod<T> {
  method: string;
  options: T;
}

/**
 * Everything the scheduler's decorators wrote on one provider class.
 * @internal
 */
export interface ProviderMetadata {
  /** `@Worker` options, on the class. */
  worker?: WorkerOptions;
  /** `@BatchWorker`'s batch options, on the class (with `worker`). */
  batch?: BatchWorkerOptions;
  /** `@Workflow` options, on the class. */
  workflow?: WorkflowOptions;
  /** `@Scheduled` methods. */
  scheduled: DecoratedMethod<ScheduledOptions>[];
  /** `@Step` methods. */
  steps: DecoratedMethod<StepOptions>[];
}

/**
 * The one reader of the `scheduler:*` metadata keys (`@Scheduled`, `@Worker`,
 * `@Workflow`, `@Step`); decorators only write them.
 * @internal
 */
@Injectable()
export class SchedulerMetadataAccessor {
  constructor(
    private readonly reflector: Reflector,
    private readonly scanner: MetadataScanner,
  ) {}

  /**
   * What the decorators wrote on `type` and on the methods of `prototype`, or
   * `null` when the class carries none. Methods are read off the class's
   * prototype, never an instance: an `instrument.instanceDecorator` (APM
   * agents, @nestjs/observe) may hand out wrapped methods that carry none.
   */
  read(type: Function, prototype: object): ProviderMetadata | null {
    const worker = this.reflector.get<WorkerOptions | undefined>(WORKER_METADATA, type);
    const workflow = this.reflector.get<WorkflowOptions | undefined>(WORKFLOW_METADATA, type);
    const scheduled: DecoratedMethod<ScheduledOptions>[] = [];
    const steps: DecoratedMethod<StepOptions>[] = [];
    const methods = prototype as Record<string, Function>;
    for (const method of this.scanner.getAllMethodNames(prototype)) {
      const job = this.reflector.get<ScheduledOptions | undefined>(SCHEDULED_METADATA, methods[method]!);
      if (job !== undefined) scheduled.push({ method, options: job });
      const step = this.reflector.get<StepOptions | undefined>(STEP_METADATA, methods[method]!);
      if (step !== undefined) steps.push({ method, options: step });
    }
    if (worker === undefined && workflow === undefined && scheduled.length === 0 && steps.length === 0) return null;
    const batch = this.reflector.get<BatchWorkerOptions | undefined>(BATCH_METADATA, type);
    return { worker, ...(batch ? { batch } : {}), workflow, scheduled, steps };
  }
}
