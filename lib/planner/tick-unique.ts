import type { JsonValue } from '../common/json.js';
import { uniqueKeyOf } from '../discovery/unique.resolver.js';
import type { ScheduleEntry } from '../scheduler.registry.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { InsertResult, NewJob } from '../store/job.types.js';

/**
 * The unique key of a schedule's jobs: its own while `overlap` is `'skip'`
 * (`unique: true`), else the one a unique key or object derives, if any,
 * from `args` (the schedule's own unless a `runNow` gives others).
 * @internal
 */
export function tickUnique(entry: ScheduleEntry, args: JsonValue = entry.args ?? {}): Pick<NewJob, 'uniqueKey' | 'uniqueStates' | 'uniquePeriod'> {
  const { options } = entry;
  if (options.overlap === 'skip') return { uniqueKey: `schedule:${entry.name}` };
  const unique = options.unique;
  if (!unique || unique.legacy) return { uniqueKey: null };
  const job = { name: entry.handler.name, queue: options.queue, args };
  const uniqueKey = uniqueKeyOf(unique, job, (option, detail) => {
    throw new SchedulerConfigError(`schedule "${entry.name}"`, option, detail);
  });
  return { uniqueKey, uniqueStates: unique.states, uniquePeriod: unique.period };
}

/**
 * The reason of a `job:skip` for a schedule's job that collided on a key:
 * `unique` when the key was one a unique key or object derived.
 * @internal
 */
export function tickSkipReason(entry: ScheduleEntry, conflict: InsertResult['conflict']): 'overlap' | 'unique' {
  return conflict === 'unique' && entry.options.overlap !== 'skip' ? 'unique' : 'overlap';
}
