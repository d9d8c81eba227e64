import type { Job, JobState } from '../job.types.js';
import { finishedJob, type FinishedJob } from './finished-job.js';
import { finishedStrings } from './interner.js';

/**
 * The memory store's finished jobs in pruning order: by finish time, then
 * insertion. Jobs mostly finish in time order, so a new one goes at the end,
 * and pruning (oldest first) takes them from the front. Removal leaves a
 * hole (`null`, found through the record's slot), skipped from the front at
 * once and compacted away once holes are half the list: O(1) amortised per
 * job, where sorting every finished job on each prune call was O(n log n).
 * @internal
 */
export class FinishedJobs {
  private list: (FinishedJob | null)[] = [];
  /** Every entry before it is a hole. */
  private head = 0;
  /** Holes at or after `head`. */
  private holes = 0;
  private readonly strings = finishedStrings();

  /** How many records are listed. */
  get size(): number {
    return this.list.length - this.head - this.holes;
  }

  /**
   * The compact record of a job that has just reached a final state (see
   * {@link finishedJob}), listed by its finish time.
   */
  add(job: Job, seq: number, finishedAtMs: number): FinishedJob {
    const record = finishedJob(job, seq, finishedAtMs, this.strings);
    // An invalid finish time is before no time: never pruned, so not listed.
    if (!Number.isNaN(finishedAtMs)) this.place(record);
    return record;
  }

  /** Takes a record out of the list (deleted, pruned, or resurrected). */
  remove(record: FinishedJob): void {
    if (record.slot < 0) return;
    this.list[record.slot] = null;
    record.slot = -1;
    this.holes++;
    while (this.head < this.list.length && this.list[this.head] === null) {
      this.head++;
      this.holes--;
    }
    if ((this.head + this.holes) * 2 > this.list.length) this.compact();
  }

  /**
   * Up to `limit` records in `states` finished before `beforeMs`, oldest
   * first (ties in insertion order): the ones `prune` deletes. It walks
   * from the front and stops at the first record not finished before.
   */
  oldest(states: readonly JobState[], beforeMs: number, limit: number): FinishedJob[] {
    const found: FinishedJob[] = [];
    if (limit <= 0) return found;
    for (let i = this.head; i < this.list.length; i++) {
      const record = this.list[i];
      if (record === null) continue;
      if (!(record.finishedAtMs < beforeMs)) break;
      if (states.includes(record.state) && found.push(record) >= limit) break;
    }
    return found;
  }

  /** The listed records in order (for tests and diagnostics). */
  *[Symbol.iterator](): Generator<FinishedJob> {
    for (let i = this.head; i < this.list.length; i++) {
      const record = this.list[i];
      if (record) yield record;
    }
  }

  private place(record: FinishedJob): void {
    const list = this.list;
    let at = list.length;
    let passed = false;
    for (; at > this.head; at--) {
      const listed = list[at - 1] as FinishedJob | null;
      if (listed === null) continue;
      if (!isAfter(listed, record)) break;
      passed = true;
    }
    if (!passed) {
      record.slot = list.push(record) - 1;
      return;
    }
    // Finished before the newest (callers' clocks differ, or a test's went back): rare, and near the end.
    list.splice(at, 0, record);
    for (let i = at; i < list.length; i++) {
      const moved = list[i];
      if (moved) moved.slot = i;
    }
  }

  private compact(): void {
    const kept: FinishedJob[] = [];
    for (let i = this.head; i < this.list.length; i++) {
      const record = this.list[i];
      if (!record) continue;
      record.slot = kept.length;
      kept.push(record);
    }
    this.list = kept;
    this.head = 0;
    this.holes = 0;
  }
}

/** Pruning order: whether `listed` goes after `record`. */
function isAfter(listed: FinishedJob, record: FinishedJob): boolean {
  return listed.finishedAtMs > record.finishedAtMs || (listed.finishedAtMs === record.finishedAtMs && listed.seq > record.seq);
}
