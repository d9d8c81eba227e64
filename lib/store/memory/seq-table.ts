/** Slots a page: a page of 32 costs ~330 B (the page, its array, its `Map` entry), ~10 B a job when full. */
const PAGE = 32;

interface Page<T> {
  readonly slots: (T | undefined)[];
  /** Slots in use: the page goes when none are. */
  count: number;
}

/**
 * The memory store's jobs by insertion number (an id is `String(seq)`), in
 * pages of {@link PAGE} numbers kept in a `Map` by page number. An
 * acknowledgement finds its job, and the finished record replaces it, in
 * the page the last lookup used (jobs are acknowledged roughly in the order
 * they were queued): an array read and write, where a `Map` of every job
 * cost 12-15 % of a 100k-job drain in its lookup and its `set` (misses in a
 * table of megabytes, and write barriers on it).
 *
 * Numbers are added in increasing order, so pages are created in order and
 * iteration is in number order. A page with no job left is dropped: a job
 * kept among pruned ones costs at most its page (~330 B).
 * @internal
 */
export class SeqTable<T> {
  private readonly pages = new Map<number, Page<T>>();
  private lastNo = Number.NaN;
  private last: Page<T> | undefined;
  private count = 0;

  /** How many numbers hold a value. */
  get size(): number {
    return this.count;
  }

  /** The value of `seq`; `undefined` for any other number (`NaN`, fractions, numbers no job has). */
  get(seq: number): T | undefined {
    const no = Math.floor(seq / PAGE);
    return this.page(no)?.slots[seq - no * PAGE];
  }

  /** Sets the value of `seq`: a new number must be above every number added before. */
  set(seq: number, value: T): void {
    const no = Math.floor(seq / PAGE);
    let page = this.page(no);
    if (page === undefined) {
      page = { slots: new Array<T | undefined>(PAGE), count: 0 };
      this.pages.set(no, page);
      this.lastNo = no;
      this.last = page;
    }
    const at = seq - no * PAGE;
    if (page.slots[at] === undefined) {
      page.count++;
      this.count++;
    }
    page.slots[at] = value;
  }

  delete(seq: number): boolean {
    const no = Math.floor(seq / PAGE);
    const page = this.page(no);
    const at = seq - no * PAGE;
    if (page === undefined || page.slots[at] === undefined) return false;
    page.slots[at] = undefined;
    this.count--;
    if (--page.count === 0) {
      this.pages.delete(no);
      if (this.last === page) this.last = undefined;
      this.lastNo = Number.NaN;
    }
    return true;
  }

  /** Every value, by number. */
  *values(): Generator<T, void, undefined> {
    for (const page of this.pages.values()) {
      for (const value of page.slots) if (value !== undefined) yield value;
    }
  }

  private page(no: number): Page<T> | undefined {
    if (no === this.lastNo) return this.last;
    const page = this.pages.get(no);
    if (page !== undefined) {
      this.lastNo = no;
      this.last = page;
    }
    return page;
  }
}
