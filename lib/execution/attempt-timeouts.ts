import type { Clock, TimerHandle } from '../clock/clock.js';

/**
 * What {@link AttemptTimeouts} keeps on each attempt it follows: the
 * attempt is its own list node, so arming and clearing a timeout allocate
 * nothing.
 * @internal
 */
export interface TimeoutEntry {
  /** When the timeout fires (epoch ms). */
  timeoutAt: number;
  timeoutPrev: TimeoutEntry | null;
  timeoutNext: TimeoutEntry | null;
  /** The list it is in, or `null` when no timeout is armed. */
  timeoutList: TimeoutList | null;
}

/** The attempts of one timeout length, by the time each fires. */
interface TimeoutList {
  readonly ms: number;
  head: TimeoutEntry | null;
  tail: TimeoutEntry | null;
  /** One clock timer for the list, due no later than its head. */
  timer: TimerHandle | null;
  timerAt: number;
}

/**
 * The timeouts of running attempts, on one clock timer per timeout length
 * instead of one per attempt (a timer was a closure, a handle and Node's
 * own timer object: ~340 B, and 5 % of a memory-store drain's CPU, for a
 * timeout that almost never fires). Attempts of one length started in time
 * order fire in that order, so each list is a queue: an attempt joins at its
 * tail and leaves from anywhere in O(1). The timer is set for the head and
 * left alone when the head leaves early; firing early, it is set again for
 * the new head. Every attempt still times out exactly at `started + ms`, as
 * the clock tells it.
 * @internal
 */
export class AttemptTimeouts<T extends TimeoutEntry> {
  private readonly lists = new Map<number, TimeoutList>();

  constructor(
    private readonly clock: Clock,
    private readonly fire: (entry: T) => void,
  ) {}

  /** Arms the timeout of `entry` (not armed yet): it fires at `from + ms`. */
  add(entry: T, from: number, ms: number): void {
    let list = this.lists.get(ms);
    if (list === undefined) {
      list = { ms, head: null, tail: null, timer: null, timerAt: 0 };
      this.lists.set(ms, list);
    }
    entry.timeoutAt = from + ms;
    entry.timeoutList = list;
    // After the last one that fires no later: the tail, unless the clock went back.
    let before = list.tail;
    while (before !== null && before.timeoutAt > entry.timeoutAt) before = before.timeoutPrev;
    entry.timeoutPrev = before;
    entry.timeoutNext = before === null ? list.head : before.timeoutNext;
    if (entry.timeoutNext === null) list.tail = entry;
    else entry.timeoutNext.timeoutPrev = entry;
    if (before === null) list.head = entry;
    else before.timeoutNext = entry;
    if (list.head === entry) this.arm(list);
  }

  /** Clears the timeout of `entry`, if armed. */
  remove(entry: T): void {
    const list = entry.timeoutList;
    if (list === null) return;
    this.unlink(list, entry);
    if (list.head !== null) return;
    if (list.timer !== null) this.clock.clearTimeout(list.timer);
    list.timer = null;
    this.lists.delete(list.ms);
  }

  private unlink(list: TimeoutList, entry: TimeoutEntry): void {
    const { timeoutPrev: prev, timeoutNext: next } = entry;
    if (prev === null) list.head = next;
    else prev.timeoutNext = next;
    if (next === null) list.tail = prev;
    else next.timeoutPrev = prev;
    entry.timeoutPrev = entry.timeoutNext = null;
    entry.timeoutList = null;
  }

  /** Makes sure a timer is due no later than the head (a timer due earlier stays: it sets the next one). */
  private arm(list: TimeoutList): void {
    const head = list.head;
    if (head === null || (list.timer !== null && list.timerAt <= head.timeoutAt)) return;
    if (list.timer !== null) this.clock.clearTimeout(list.timer);
    list.timerAt = head.timeoutAt;
    list.timer = this.clock.setTimeout(() => this.due(list), head.timeoutAt - this.clock.now());
  }

  private due(list: TimeoutList): void {
    list.timer = null;
    const now = this.clock.now();
    for (let head = list.head; head !== null && head.timeoutAt <= now; head = list.head) {
      this.unlink(list, head);
      this.fire(head as T);
    }
    if (list.head !== null) this.arm(list);
    else if (list.timer === null && this.lists.get(list.ms) === list) this.lists.delete(list.ms);
  }
}
