import { SetMetadata } from '@nestjs/common';
import { SCHEDULED_METADATA } from '../scheduler.constants.js';
import type { AnyScheduleBuilder } from '../schedule/builder/schedule-builder.types.js';
import type { ScheduledOptions } from './job-options.js';

/**
 * Options given beside a builder: everything but the schedule itself.
 * @publicApi
 */
export type ScheduledBesideBuilder = Omit<ScheduledOptions, 'cron' | 'zone' | 'every' | 'at' | 'schedule'>;

/**
 * Marks a provider method as a job. With `cron`, `every`, `at` or `schedule`
 * it runs on that schedule; without, it runs what is enqueued for it by name.
 * The method receives a `JobContext`.
 * @publicApi
 */
export function Scheduled(options?: ScheduledOptions): MethodDecorator;
/**
 * Marks a provider method as a job that runs on a fluent builder's schedule:
 * `@Scheduled(every().day().at('14:30'), { queue: 'reports' })`.
 * @publicApi
 */
export function Scheduled(schedule: AnyScheduleBuilder, options?: ScheduledBesideBuilder): MethodDecorator;
/**
 * Implementation of both overloads.
 * @publicApi
 */
export function Scheduled(first: ScheduledOptions | AnyScheduleBuilder = {}, options: ScheduledBesideBuilder = {}): MethodDecorator {
  return SetMetadata(SCHEDULED_METADATA, withSchedule(first, options));
}

/**
 * A builder and its options as one options object; `schedule` holds the
 * builder's spec as it is now, so that later calls on the builder change nothing.
 * @internal
 */
export function withSchedule(first: ScheduledOptions | AnyScheduleBuilder, options: ScheduledBesideBuilder): ScheduledOptions {
  return isBuilder(first) ? { ...options, schedule: first.toSpec() } : first;
}

function isBuilder(value: unknown): value is AnyScheduleBuilder {
  return typeof value === 'object' && value !== null && typeof (value as AnyScheduleBuilder).toSpec === 'function';
}
