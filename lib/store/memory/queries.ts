import type { Job, JobFilter, QueueCounts } from '../job.types.js';

/** Whether a job passes a filter (`limit` and `order` aside). */
export function matchesFilter(job: Job, filter: JobFilter): boolean {
  return (
    (filter.name === undefined || job.name === filter.name) &&
    (filter.nameOrSchedule === undefined || job.name === filter.nameOrSchedule || job.schedule === filter.nameOrSchedule) &&
    (filter.queue === undefined || job.queue === filter.queue) &&
    (filter.states === undefined || filter.states.includes(job.state)) &&
    (filter.finishedBefore === undefined || (job.finishedAt !== null && job.finishedAt < filter.finishedBefore))
  );
}

/** Counts jobs by queue and state; `queues` get an entry even without jobs. Sorted by queue. */
export function countByQueue(records: Iterable<{ job: Job }>, queues: Iterable<string>, now: Date): QueueCounts[] {
  const counts = new Map<string, QueueCounts>();
  const entry = (queue: string): QueueCounts => {
    let c = counts.get(queue);
    if (!c) {
      c = { queue, available: 0, scheduled: 0, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 };
      counts.set(queue, c);
    }
    return c;
  };
  for (const queue of queues) entry(queue);
  const at = now.getTime();
  for (const { job } of records) {
    const c = entry(job.queue);
    if (job.state === 'available' && job.runAt.getTime() > at) c.scheduled++;
    else c[job.state]++;
  }
  return [...counts.values()].sort((a, b) => compareNames(a.queue, b.queue));
}

/** Deep copies of a map's named values, sorted by name. */
export function sortedCopies<T extends { name: string }>(map: Map<string, T>): T[] {
  return [...map.values()].sort((a, b) => compareNames(a.name, b.name)).map((v) => structuredClone(v));
}

/** The patch without its `undefined` entries, so spreading it keeps current values. */
export function definedEntries<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
