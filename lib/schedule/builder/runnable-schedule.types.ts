import type { Type } from '@nestjs/common';
import type { JobInfo } from '../../scheduler.types.js';
import type { RuntimeScheduleInput } from '../runtime-schedule.js';

/**
 * Options of `.do()` beside the name and the handler: every runtime schedule
 * option but the schedule itself (`args`, `queue`, `priority`, …).
 * @publicApi
 */
export type ScheduleDoOptions = Omit<RuntimeScheduleInput, 'name' | 'handler' | 'cron' | 'zone' | 'every' | 'at' | 'schedule'>;

/**
 * The end of a chain started from `SchedulerService.every()`.
 * @publicApi
 */
export interface RunnableSchedule {
  /**
   * Inserts this schedule as a runtime schedule (`scheduler.insert`): stored,
   * announced to every node, kept across restarts.
   * @param name the new schedule's name (unique among jobs and schedules).
   * @param handler a registered job's name or its `@Worker` class; never a
   *   function, since stored schedules hold no code.
   */
  do(name: string, handler: string | Type<unknown>, options?: ScheduleDoOptions): Promise<JobInfo>;
}
