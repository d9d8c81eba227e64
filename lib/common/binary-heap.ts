/**
 * Where a heap keeps each item's position: `get` returns -1 for an item not
 * in the heap. Items that carry their own position field (one heap at a time)
 * avoid the Map of `indexed: true`, whose updates on every swap dominated a
 * memory-store claim's profile.
 */
export interface HeapPositions<T> {
  get(item: T): number;
  set(item: T, index: number): void;
}

/** Options of a {@link BinaryHeap}. */
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
    set: (item, index) => void (index < 0 ? map.delete(item) : map.set(item, index)),
  };
}

/**
 * A binary min-heap: `pop` returns the smallest item according to `compare`
 * (negative when `a` comes before `b`). Items comparing equal come out in no
 * particular order; add a tie-breaker (such as a sequence number) for FIFO.
 */
export class BinaryHeap<T> {
  private readonly items: T[] = [];
  private readonly positions: HeapPositions<T> | null;

  constructor(
    private readonly compare: (a: T, b: T) => number,
    options: BinaryHeapOptions<T> = {},
  ) {
    this.positions = options.indexed === true ? mapPositions() : options.indexed || null;
  }

  /** How many items the heap holds. */
  get size(): number {
    return this.items.length;
  }

  /** Adds an item. O(log n). */
  push(item: T): void {
    if (this.positions && this.positions.get(item) >= 0) throw new TypeError('BinaryHeap: item is already in the heap');
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  /** The smallest item without removing it, or `undefined` when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Removes and returns the smallest item, or `undefined` when empty. O(log n). */
  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    const top = this.items[0] as T;
    this.removeAt(0);
    return top;
  }

  /** Whether the item is in the heap. */
  has(item: T): boolean {
    return this.positions ? this.positions.get(item) >= 0 : this.items.includes(item);
  }

  /**
   * Removes one occurrence of the item; returns whether it was found.
   * O(log n) when indexed, O(n) otherwise.
   */
  remove(item: T): boolean {
    const index = this.positions ? this.positions.get(item) : this.items.indexOf(item);
    if (index < 0) return false;
    this.removeAt(index);
    return true;
  }

  /** Removes every item. */
  clear(): void {
    for (const item of this.items) this.positions?.set(item, -1);
    this.items.length = 0;
  }

  /** The items in no particular order (a copy). */
  toArray(): T[] {
    return [...this.items];
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
