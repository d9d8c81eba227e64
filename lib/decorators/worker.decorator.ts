import { Injectable, SetMetadata, applyDecorators } from '@nestjs/common';
import { WORKER_METADATA } from '../scheduler.constants.js';
import type { JobContext } from '../execution/job-context.js';
import type { AnyScheduleBuilder } from '../schedule/builder/schedule-builder.types.js';
import type { WorkerOptions } from './job-options.js';
import { withSchedule, type ScheduledBesideBuilder } from './scheduled.decorator.js';

/**
 * A class-based job: `perform(ctx)` does the work, and an optional
 * `backoff(attempt, error)` returns the delay in ms before a retry.
 * @publicApi
 */
export interface JobWorker<TArgs = unknown, TResult = unknown> {
  perform(ctx: JobContext<TArgs>): TResult | Promise<TResult>;
  backoff?(attempt: number, error: unknown): number;
}

/**
 * Marks a class as a worker (and as `@Injectable()`). The job name defaults to the class name.
 * @publicApi
 */
export function Worker(options?: WorkerOptions): ClassDecorator;
/**
 * Marks a class as a worker that runs on a fluent builder's schedule:
 * `@Worker(every(2).hours(), { name: 'sync' })`.
 * @publicApi
 */
export function Worker(schedule: AnyScheduleBuilder, options?: ScheduledBesideBuilder): ClassDecorator;
/**
 * Implementation of both overloads.
 * @publicApi
 */
export function Worker(first: WorkerOptions | AnyScheduleBuilder = {}, options: ScheduledBesideBuilder = {}): ClassDecorator {
  return applyDecorators(Injectable(), SetMetadata(WORKER_METADATA, withSchedule(first, options)));
}
