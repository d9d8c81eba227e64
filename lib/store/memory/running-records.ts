import type { JobRecord } from './claim-index.js';

/**
 * The memory store's running records, for rescue: an array a record knows
 * its place in (`runningAt`), so that a claim and an acknowledgement add and
 * remove in O(1) without the hash table of a `Set` (its deleted entries made
 * it rebuild, ~100 B a job in a drain). Order is not kept: rescue sorts.
 * @internal
 */
export class RunningRecords {
  private readonly recs: JobRecord[] = [];

  get size(): number {
    return this.recs.length;
  }

  add(rec: JobRecord): void {
    if (rec.runningAt >= 0) return;
    rec.runningAt = this.recs.push(rec) - 1;
  }

  delete(rec: JobRecord): void {
    const at = rec.runningAt;
    if (at < 0 || this.recs[at] !== rec) return;
    const last = this.recs.pop()!;
    if (last !== rec) {
      this.recs[at] = last;
      last.runningAt = at;
    }
    rec.runningAt = -1;
  }

  [Symbol.iterator](): IterableIterator<JobRecord> {
    return this.recs.values();
  }
}
