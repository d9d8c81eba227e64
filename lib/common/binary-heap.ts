/**
 * Where a heap keeps each item's position: `get` returns -1 for an item not
 * in the heap (other negative values mark its place in the heap's sorted
 * run). Items that carry their own position field (one heap at a time)
 * avoid the Map of `indexed: true`, whose updates on every swap dominated a
 * memory-store claim's profile.
 * @internal
 */
export interface HeapPositions<T> {
  get(item: T): number;
  set(item: T, index: number): void;
}

/**
 * Options of a {@link BinaryHeap}.
 * @internal
 */
export interface BinaryHeapOptions<T> {
  /**
   * Track each item's position so `remove` and `has` are O(log n) and O(1)
   * instead of O(n): `true` keeps them in a Map, or give the item's own slot.
   * Items must then be distinct values (objects by identity); pushing one that
   * is already in the heap throws.
   */
  indexed?: boolean | HeapPositions<T>;
}

function mapPositions<T>(): HeapPositions<T> {
  const map = new Map<T, number>();
  return {
    get: (item) => map.get(item) ?? -1,
    set: (item, index) => {
      if (index === -1) map.delete(item);
      else map.set(item, index);
    },
  };
}

/**
 * A binary min-heap: `pop` returns the smallest item according to `compare`
 * (negative when `a` comes before `b`). Items comparing equal come out in no
 * particular order; add a tie-breaker (such as a sequence number) for FIFO.
 *
 * Items pushed in order (none smaller than the last one so pushed) go to a
 * sorted run beside the heap instead, where push, pop and remove are O(1):
 * jobs mostly arrive in claim order (same priority, runAt = now), and at a
 * 20,000-job backlog the heap's 15 levels of comparisons were a fifth of a
 * memory-store drain. `peek`/`pop` take the smaller of the run's head and
 * the heap's top.
 * @internal
 */
export class BinaryHeap<T> {
  private readonly items: T[] = [];
  private readonly positions: HeapPositions<T> | null;
  /** The sorted run: live items at `[head, run.length)`, holes (removed items) as `undefined`. */
  private run: (T | undefined)[] = [];
  private head = 0;
  private runCount = 0;
  /** The last item appended to the run: every live run item is at most it. */
  private tail: T | undefined;

  constructor(
    private readonly compare: (a: T, b: T) => number,
    options: BinaryHeapOptions<T> = {},
  ) {
    this.positions = options.indexed === true ? mapPositions() : options.indexed || null;
  }

  /** How many items the heap holds. */
  get size(): number {
    return this.items.length + this.runCount;
  }

  /** Adds an item. O(1) when not smaller than the last in-order push, else O(log n). */
  push(item: T): void {
    if (this.positions && this.positions.get(item) !== -1) throw new TypeError('BinaryHeap: item is already in the heap');
    if (this.runCount === 0 || this.compare(item, this.tail as T) >= 0) {
      if (this.runCount === 0) this.resetRun();
      this.positions?.set(item, runPosition(this.run.length));
      this.run.push(item);
      this.runCount++;
      this.tail = item;
      return;
    }
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  /** The smallest item without removing it, or `undefined` when empty. */
  peek(): T | undefined {
    const top = this.items[0];
    if (this.runCount === 0) return top;
    const first = this.run[this.head] as T;
    return top === undefined || this.compare(first, top) <= 0 ? first : top;
  }

  /** Removes and returns the smallest item, or `undefined` when empty. O(1) from the run, O(log n) from the heap. */
  pop(): T | undefined {
    const top = this.items[0];
    if (this.runCount > 0) {
      const first = this.run[this.head] as T;
      if (top === undefined || this.compare(first, top) <= 0) {
        this.removeFromRun(this.head);
        return first;
      }
    }
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top;
  }

  /** Whether the item is in the heap. */
  has(item: T): boolean {
    return this.positions ? this.positions.get(item) !== -1 : this.items.includes(item) || this.runIndexOf(item) >= 0;
  }

  /**
   * Removes one occurrence of the item; returns whether it was found.
   * O(log n) when indexed, O(n) otherwise.
   */
  remove(item: T): boolean {
    const index = this.positions ? this.positions.get(item) : this.items.indexOf(item);
    if (index >= 0) {
      this.removeAt(index);
      return true;
    }
    const runIndex = this.positions ? (index === -1 ? -1 : runPosition(index)) : this.runIndexOf(item);
    if (runIndex < 0) return false;
    this.removeFromRun(runIndex);
    return true;
  }

  /** Removes every item. */
  clear(): void {
    for (const item of this.toArray()) this.positions?.set(item, -1);
    this.items.length = 0;
    this.runCount = 0;
    this.resetRun();
  }

  /** The items in no particular order (a copy). */
  toArray(): T[] {
    const all = [...this.items];
    for (let i = this.head; i < this.run.length; i++) if (this.run[i] !== undefined) all.push(this.run[i] as T);
    return all;
  }

  private runIndexOf(item: T): number {
    for (let i = this.head; i < this.run.length; i++) if (this.run[i] === item) return i;
    return -1;
  }

  /** Empties the run's array (only once it holds no live item). */
  private resetRun(): void {
    this.run.length = 0;
    this.head = 0;
    this.tail = undefined;
  }

  private removeFromRun(index: number): void {
    this.positions?.set(this.run[index] as T, -1);
    this.run[index] = undefined;
    if (--this.runCount === 0) return this.resetRun();
    while (this.run[this.head] === undefined) this.head++;
    if (index === this.run.length - 1) {
      // The tail went: appends compare with the last item still in the run
      // (the removed one may come back with another key).
      while (this.run[this.run.length - 1] === undefined) this.run.pop();
      this.tail = this.run[this.run.length - 1];
    }
    // Drop the consumed front once it is most of the array (amortised O(1)).
    if (this.head > 1024 && this.head * 2 > this.run.length) {
      this.run = this.run.slice(this.head);
      this.head = 0;
      if (this.positions) for (let i = 0; i < this.run.length; i++) if (this.run[i] !== undefined) this.positions.set(this.run[i] as T, runPosition(i));
    }
  }

  private removeAt(index: number): void {
    const removed = this.items[index] as T;
    const last = this.items.pop() as T;
    this.positions?.set(removed, -1);
    if (index === this.items.length) return;
    this.items[index] = last;
    // The moved item may belong above or below its new place.
    if (this.up(index) === index) this.down(index);
  }

  /** Sifts the item at `index` up; returns where it ended. */
  private up(index: number): number {
    const item = this.items[index] as T;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = this.items[parentIndex] as T;
      if (this.compare(item, parent) >= 0) break;
      this.place(parent, index);
      index = parentIndex;
    }
    this.place(item, index);
    return index;
  }

  private down(index: number): void {
    const length = this.items.length;
    const item = this.items[index] as T;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && this.compare(this.items[right] as T, this.items[left] as T) < 0) child = right;
      const childItem = this.items[child] as T;
      if (this.compare(childItem, item) >= 0) break;
      this.place(childItem, index);
      index = child;
    }
    this.place(item, index);
  }

  private place(item: T, index: number): void {
    this.items[index] = item;
    this.positions?.set(item, index);
  }
}

/** Positions in the sorted run are stored as -2, -3, …, apart from the heap's (≥ 0) and "absent" (-1); the mapping is its own inverse. */
function runPosition(index: number): number {
  return -2 - index;
}
