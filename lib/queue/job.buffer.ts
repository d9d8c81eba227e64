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
 * (concurrency + prefetch), so a sorted array beats a heap here. Jobs leave
 * from the front, by moving a start index: `Array#shift` moved the whole
 * array each time (~150 ns a job with 1,000 buffered).
 * @internal
 */
export class JobBuffer {
  private items: Job<unknown>[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  get jobs(): readonly Job<unknown>[] {
    this.compact();
    return this.items;
  }

  add(jobs: readonly Job<unknown>[]): void {
    if (jobs.length === 0) return;
    this.compact();
    // Claims come back in claim order, usually after what is buffered: then
    // appending keeps the order without a sort.
    const last = this.items[this.items.length - 1];
    let sorted = last === undefined || before(last, jobs[0]!) <= 0;
    for (let i = 1; sorted && i < jobs.length; i++) sorted = before(jobs[i - 1]!, jobs[i]!) <= 0;
    for (const job of jobs) this.items.push(job);
    if (!sorted) this.items.sort(before);
  }

  /** The next job to start, left in place. */
  peek(): Job<unknown> | undefined {
    return this.items[this.head];
  }

  shift(): Job<unknown> | undefined {
    if (this.head === this.items.length) return undefined;
    const job = this.items[this.head]!;
    // Cleared, so a started job's copy is not kept alive by the buffer.
    (this.items as (Job<unknown> | undefined)[])[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    }
    return job;
  }

  /** Takes a job out by id, only in its `attempt` when one is given; the job taken out, if any. */
  remove(id: string, attempt?: number): Job<unknown> | undefined {
    this.compact();
    const index = this.items.findIndex((job) => job.id === id && (attempt === undefined || job.attempt === attempt));
    if (index < 0) return undefined;
    return this.items.splice(index, 1)[0];
  }

  /** Takes every job out. */
  clear(): Job<unknown>[] {
    this.compact();
    const all = this.items;
    this.items = [];
    return all;
  }

  /** The largest priority number held (the least urgent), or -1 when empty. */
  worstPriority(): number {
    let worst = -1;
    for (let i = this.head; i < this.items.length; i++) if (this.items[i]!.priority > worst) worst = this.items[i]!.priority;
    return worst;
  }

  /** Drops the slots of jobs already taken from the front. */
  private compact(): void {
    if (this.head === 0) return;
    this.items.splice(0, this.head);
    this.head = 0;
  }
}
