import { BinaryHeap, type HeapPositions } from '../../common/binary-heap.js';
import type { Job } from '../job.types.js';

/**
 * Where an available job waits in the {@link ClaimIndex}.
 * @internal
 */
export type ParkReason = 'paused' | 'serial' | 'rate';

/**
 * A job as the memory store holds it, with its place in the claim index.
 * @internal
 */
export interface JobRecord {
  job: Job;
  /** Insertion order (the numeric id). */
  seq: number;
  /** `null` while not available, or while handed out by {@link ClaimIndex.candidates}. */
  slot: 'future' | 'ready' | 'pinned' | ParkReason | null;
  /** The pause or serial key it is parked under. */
  parkedKey: string | null;
  /** Its place in the one heap of the index that holds it, or -1. */
  pos: number;
  /** `job.priority` and `job.runAt` as numbers, set as it enters the index (they do not change while it is there). */
  priority: number;
  runAtMs: number;
  /** Its place among the store's running records, or -1. */
  runningAt: number;
}

/**
 * A new record for a job, in no index yet.
 * @internal
 */
export function jobRecord(job: Job, seq: number): JobRecord {
  return { job, seq, slot: null, parkedKey: null, pos: -1, priority: job.priority, runAtMs: job.runAt.getTime(), runningAt: -1 };
}

/**
 * Claim order: priority (0 first), then `runAt`, then insertion.
 * @internal
 */
export const byClaimOrder = (a: JobRecord, b: JobRecord): number => a.priority - b.priority || a.runAtMs - b.runAtMs || a.seq - b.seq;

const byRunAt = (a: JobRecord, b: JobRecord): number => a.runAtMs - b.runAtMs || a.seq - b.seq;

// A record is in at most one heap at a time (future, ready or one node's pinned heap).
const POSITIONS: HeapPositions<JobRecord> = {
  get: (rec) => rec.pos,
  set: (rec, index) => void (rec.pos = index),
};

interface QueueHeaps {
  /** Available, not yet known to be due; moved out at claim once `runAt <= now`. */
  future: BinaryHeap<JobRecord>;
  /** Due jobs in claim order. */
  ready: BinaryHeap<JobRecord>;
  /** Due jobs pinned to one node, by node: other nodes never look at them. */
  pinned: Map<string, BinaryHeap<JobRecord>>;
}

/**
 * The available jobs of every queue, arranged so a claim only touches the jobs
 * it takes (plus ones it parks). Due jobs whose name is paused, whose serial
 * key is running, or whose name's rate-limit bucket is empty, are parked under that key and come back on {@link unpark},
 * so they are not examined again on every claim.
 * @internal
 */
export class ClaimIndex {
  private readonly queues = new Map<string, QueueHeaps>();
  private readonly parked = new Map<string, Set<JobRecord>>();

  /** Adds a job that just became available. */
  add(rec: JobRecord): void {
    const heaps = this.heaps(rec.job.queue);
    rec.priority = rec.job.priority;
    rec.runAtMs = rec.job.runAt.getTime();
    heaps.future.push(rec);
    rec.slot = 'future';
  }

  /** Removes a job that stops being available (claimed, cancelled, deleted). */
  remove(rec: JobRecord): void {
    const heaps = this.heaps(rec.job.queue);
    switch (rec.slot) {
      case 'future':
        heaps.future.remove(rec);
        break;
      case 'ready':
        heaps.ready.remove(rec);
        break;
      case 'pinned':
        heaps.pinned.get(rec.job.pinnedNode as string)?.remove(rec);
        break;
      case 'paused':
      case 'serial':
      case 'rate':
        this.parked.get(parkKey(rec.slot, rec.parkedKey as string))?.delete(rec);
        break;
    }
    rec.slot = null;
    rec.parkedKey = null;
  }

  /** Sets aside a job handed out by {@link candidates} until `key` is unparked. */
  park(rec: JobRecord, reason: ParkReason, key: string): void {
    const k = parkKey(reason, key);
    let set = this.parked.get(k);
    if (!set) this.parked.set(k, (set = new Set()));
    set.add(rec);
    rec.slot = reason;
    rec.parkedKey = key;
  }

  /** Returns the jobs parked under `key` to their queues (a name was resumed, a serial job finished). */
  unpark(reason: ParkReason, key: string): void {
    const k = parkKey(reason, key);
    const set = this.parked.get(k);
    if (!set) return;
    this.parked.delete(k);
    for (const rec of set) {
      rec.parkedKey = null;
      this.heaps(rec.job.queue).future.push(rec);
      rec.slot = 'future';
    }
  }

  /**
   * Yields the due jobs of `queue` that `node` may claim, in claim order,
   * each taken out of its heap. The caller must either claim it (then call
   * {@link remove}) or {@link park} it before asking for the next one.
   */
  *candidates(queue: string, node: string, now: number, maxPriority = 9): Generator<JobRecord> {
    const heaps = this.queues.get(queue);
    if (!heaps) return;
    this.promote(heaps, now);
    const mine = heaps.pinned.get(node);
    for (;;) {
      const shared = heaps.ready.peek();
      const own = mine?.peek();
      const heap = own && (!shared || byClaimOrder(own, shared) < 0) ? mine! : heaps.ready;
      // Heaps are in priority order: past `maxPriority`, nothing further qualifies.
      const next = heap.peek();
      if (!next || next.priority > maxPriority) return;
      const rec = heap.pop()!;
      rec.slot = null;
      // Only when a caller's clock is behind an earlier caller's.
      if (rec.runAtMs > now) {
        heaps.future.push(rec);
        rec.slot = 'future';
        continue;
      }
      yield rec;
    }
  }

  /** Every available job of the queue, in no order: due, future, pinned and parked. */
  *available(queue: string): Generator<JobRecord> {
    yield* this.queues.get(queue)?.future.toArray() ?? [];
    yield* this.known(queue);
  }

  /** The available jobs of the queue known to be due: ready, pinned and parked. */
  private *known(queue: string): Generator<JobRecord> {
    const heaps = this.queues.get(queue);
    if (!heaps) return;
    yield* heaps.ready.toArray();
    for (const heap of heaps.pinned.values()) yield* heap.toArray();
    for (const set of this.parked.values()) for (const rec of set) if (rec.job.queue === queue) yield rec;
  }

  /**
   * The earliest `runAt` of an available job in the queue that `held` does
   * not hold back (`null`: none is). Only the future heap is ordered by
   * `runAt`, so due, pinned and parked jobs are scanned, and the future ones
   * too when something is held: a monitoring call, not worth a fourth heap
   * updated on every claim.
   */
  nextRunAt(queue: string, held: ((job: Job) => boolean) | null): Date | null {
    let min = Infinity;
    const future = this.queues.get(queue)?.future;
    if (held === null) min = future?.peek()?.runAtMs ?? Infinity;
    else for (const rec of future?.toArray() ?? []) if (rec.runAtMs < min && !held(rec.job)) min = rec.runAtMs;
    for (const rec of this.known(queue)) if (rec.runAtMs < min && (held === null || !held(rec.job))) min = rec.runAtMs;
    return min === Infinity ? null : new Date(min);
  }

  private promote(heaps: QueueHeaps, now: number): void {
    for (let rec = heaps.future.peek(); rec && rec.runAtMs <= now; rec = heaps.future.peek()) {
      heaps.future.pop();
      const node = rec.job.pinnedNode;
      if (node === null) {
        heaps.ready.push(rec);
        rec.slot = 'ready';
      } else {
        let heap = heaps.pinned.get(node);
        if (!heap) heaps.pinned.set(node, (heap = new BinaryHeap(byClaimOrder, { indexed: POSITIONS })));
        heap.push(rec);
        rec.slot = 'pinned';
      }
    }
  }

  private heaps(queue: string): QueueHeaps {
    let heaps = this.queues.get(queue);
    if (!heaps) {
      heaps = {
        future: new BinaryHeap(byRunAt, { indexed: POSITIONS }),
        ready: new BinaryHeap(byClaimOrder, { indexed: POSITIONS }),
        pinned: new Map(),
      };
      this.queues.set(queue, heaps);
    }
    return heaps;
  }
}

function parkKey(reason: ParkReason, key: string): string {
  return `${reason}\u0000${key}`;
}
