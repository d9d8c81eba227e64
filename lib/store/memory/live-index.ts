import type { JobRecord } from './claim-index.js';

/** Fewest slots: the table never shrinks below it. */
const MIN_SLOTS = 1024;

/**
 * The memory store's live records (available and running) by insertion
 * number, for the lookup every acknowledgement makes. Open addressing on
 * `seq & mask`: ids are handed out in order, so live jobs sit in consecutive
 * slots, and finding one is an array read where a `Map` of every job
 * (finished ones too) hashed into a table of megabytes (12 % of a 100k-job
 * drain). Robin Hood probing, so that a run of consecutive numbers (one long
 * cluster) costs O(1) to miss in and to delete from: a probe stops at a
 * record nearer its home slot than the probe is to its own. At most half the
 * slots are used; 8 B a slot.
 * @internal
 */
export class LiveIndex {
  private slots: (JobRecord | undefined)[] = new Array<JobRecord | undefined>(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  private count = 0;

  /** How many records are indexed. */
  get size(): number {
    return this.count;
  }

  /** The record of `seq` (`NaN` or a number no job has: `undefined`). */
  get(seq: number): JobRecord | undefined {
    const at = this.find(seq);
    return at < 0 ? undefined : this.slots[at];
  }

  /** Adds a record whose `seq` is not indexed yet. */
  add(rec: JobRecord): void {
    if ((this.count + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    this.place(rec);
    this.count++;
  }

  /** Removes the record, if indexed. */
  remove(rec: JobRecord): void {
    let at = this.find(rec.seq);
    if (at < 0 || this.slots[at] !== rec) return;
    const slots = this.slots;
    const mask = this.mask;
    // Backward shift: the records after it that are not home move back one.
    for (let next = (at + 1) & mask; ; next = (next + 1) & mask) {
      const moved = slots[next];
      if (moved === undefined || this.distance(moved, next) === 0) break;
      slots[at] = moved;
      at = next;
    }
    slots[at] = undefined;
    this.count--;
    if (this.count * 8 < slots.length && slots.length > MIN_SLOTS) this.rehash(slots.length / 2);
  }

  /** The slot of `seq`, or -1. */
  private find(seq: number): number {
    const slots = this.slots;
    const mask = this.mask;
    // The table is never full, so the probe ends at an empty slot at the latest.
    for (let at = seq & mask, probed = 0; ; at = (at + 1) & mask, probed++) {
      const rec = slots[at];
      if (rec === undefined) return -1;
      if (rec.seq === seq) return at;
      if (this.distance(rec, at) < probed) return -1;
    }
  }

  /** How far `rec` sits past its home slot. */
  private distance(rec: JobRecord, at: number): number {
    return (at - (rec.seq & this.mask)) & this.mask;
  }

  private place(rec: JobRecord): void {
    const slots = this.slots;
    const mask = this.mask;
    let carried = rec;
    let probed = 0;
    for (let at = rec.seq & mask; ; at = (at + 1) & mask, probed++) {
      const resident = slots[at];
      if (resident === undefined) {
        slots[at] = carried;
        return;
      }
      // The one nearer home gives up its slot and probes on.
      const own = this.distance(resident, at);
      if (own < probed) {
        slots[at] = carried;
        carried = resident;
        probed = own;
      }
    }
  }

  private rehash(size: number): void {
    const old = this.slots;
    this.slots = new Array<JobRecord | undefined>(size);
    this.mask = size - 1;
    for (const rec of old) if (rec !== undefined) this.place(rec);
  }
}
