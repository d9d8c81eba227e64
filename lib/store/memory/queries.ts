import type { JobFilter } from '../job.types.js';
import { argsMatch, nameContains } from '../search-conditions.js';
import { isFinished, type JobEntry } from './finished-job.js';

/**
 * Whether a stored job passes a filter (`limit` and `order` aside). Only a
 * finished job has a finish time.
 * @internal
 */
export function matchesFilter(entry: JobEntry, filter: JobFilter): boolean {
  const finished = isFinished(entry);
  const job = finished ? entry : entry.job;
  return (
    (filter.name === undefined || job.name === filter.name) &&
    (filter.nameOrSchedule === undefined || job.name === filter.nameOrSchedule || (finished ? entry.extras : entry.job).schedule === filter.nameOrSchedule) &&
    (filter.queue === undefined || job.queue === filter.queue) &&
    (filter.states === undefined || filter.states.includes(job.state)) &&
    (filter.finishedBefore === undefined || (finished && entry.finishedAtMs < filter.finishedBefore.getTime())) &&
    (filter.afterId === undefined || pastId(job.id, filter)) &&
    (filter.nameContains === undefined || filter.nameContains.every((text) => nameContains(job.name, text))) &&
    (filter.tags === undefined || filter.tags.every((tag) => (finished ? entry.extras : entry.job).tags.includes(tag))) &&
    (filter.args === undefined || argsMatch(job.args, filter.args))
  );
}

/** Whether `id` comes after `filter.afterId` in the list's order (ids are decimal and grow). */
function pastId(id: string, filter: JobFilter): boolean {
  const after = Number(filter.afterId);
  return filter.order === 'asc' ? Number(id) > after : Number(id) < after;
}

/**
 * Deep copies of a map's named values, sorted by name.
 * @internal
 */
export function sortedCopies<T extends { name: string }>(map: Map<string, T>): T[] {
  return [...map.values()].sort((a, b) => compareNames(a.name, b.name)).map((v) => structuredClone(v));
}

/**
 * The patch without its `undefined` entries, so spreading it keeps current values.
 * @internal
 */
export function definedEntries<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Code-unit order of names, as PostgreSQL's C collation sorts them.
 * @internal
 */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
