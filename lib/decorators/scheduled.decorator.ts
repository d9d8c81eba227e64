import { SetMetadata } from '@nestjs/common';
import { SCHEDULED_METADATA } from '../scheduler.constants.js';
import type { ScheduledOptions } from './job-options.js';

/**
 * Marks a provider method as a job. With `cron`, `every` or `at` it runs on
 * that schedule; without, it runs what is enqueued for it by name.
 * The method receives a `JobContext`.
 * @publicApi
 */
export function Scheduled(options: ScheduledOptions = {}): MethodDecorator {
  return SetMetadata(SCHEDULED_METADATA, options);
}
