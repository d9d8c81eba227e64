import type { Job } from '../store/job.types.js';

/** Claim order: priority (0 first), then `runAt`, then id (insertion order). */
function before(a: Job<unknown>, b: Job<unknown>): number {
  return a.priority - b.priority || a.runAt.getTime() - b.runAt.getTime() || compareIds(a.id, b.id);
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * A queue runner's claimed-but-not-started jobs, kept in claim order. Small
 * (concurrency + prefetch), so a sorted array beats a heap here.
 */
export class JobBuffer {
  private items: Job<unknown>[] = [];

  get size(): number {
    return this.items.length;
  }

  get jobs(): readonly Job<unknown>[] {
    return this.items;
  }

  add(jobs: readonly Job<unknown>[]): void {
    if (jobs.length === 0) return;
    // Claims come back in claim order, usually after what is buffered: then
    // appending keeps the order without a sort.
    const last = this.items[this.items.length - 1];
    let sorted = last === undefined || before(last, jobs[0]!) <= 0;
    for (let i = 1; sorted && i < jobs.length; i++) sorted = before(jobs[i - 1]!, jobs[i]!) <= 0;
    for (const job of jobs) this.items.push(job);
    if (!sorted) this.items.sort(before);
  }

  shift(): Job<unknown> | undefined {
    return this.items.shift();
  }

  remove(id: string): boolean {
    const index = this.items.findIndex((job) => job.id === id);
    if (index < 0) return false;
    this.items.splice(index, 1);
    return true;
  }

  /** Takes every job out. */
  clear(): Job<unknown>[] {
    const all = this.items;
    this.items = [];
    return all;
  }

  /** The largest priority number held (the least urgent), or -1 when empty. */
  worstPriority(): number {
    let worst = -1;
    for (const job of this.items) if (job.priority > worst) worst = job.priority;
    return worst;
  }
}
