import type { AbortReason } from '../scheduler.errors.js';
import type { Job } from '../store/job.types.js';

/**
 * One attempt running on this node.
 * @internal
 */
export interface RunningJob {
  job: Job<unknown>;
  /** When the attempt started on this node (epoch ms). */
  readonly started: number;
  /** Its place in {@link RunningJobs}, or -1 (kept there). */
  runningAt: number;
  /** Aborts the attempt's signal (`detail`: the caller's words, e.g. a cancel reason); the executor settles it at once. */
  abort(reason: AbortReason, detail?: string): void;
  /** Settles when the attempt has been acknowledged. */
  readonly done: Promise<unknown>;
  /** Aborted, but its handler has not returned (it ignores `ctx.signal`). */
  readonly abortIgnored: boolean;
  /** Its handler is running (not yet returned: the acknowledgement may follow). */
  readonly holdsSlot: boolean;
  /** Settles an abort without waiting for the handler any longer. */
  forceSettle(): void;
}

/** How many job ids {@link RunningJobs.whenAdded} awaits at most. */
const MAX_AWAITED = 1_000;

/**
 * The attempts running on this node, by job id: the newest attempt of a job
 * replaces an older one still running (whose handler ignores its abort),
 * which then is in none of the answers.
 *
 * The attempts sit in an array, in the order they were added; the map from
 * job id holds their places, numbers only. A `Map` of the attempts
 * themselves kept each one alive long after it ended: V8 replaces a map's
 * table as entries come and go, and a discarded table that had reached the
 * old generation still pointed at attempts (and their jobs), which every
 * scavenge then copied until a full collection (~650 B a job promoted in a
 * memory-store drain).
 * @internal
 */
export class RunningJobs {
  private entries: (RunningJob | undefined)[] = [];
  private holes = 0;
  private readonly byId = new Map<string, number>();
  /** Job ids whose next attempt added here is awaited, with whom to tell (oldest first). */
  private readonly awaited = new Map<string, (entry: RunningJob) => void>();

  add(entry: RunningJob): void {
    const id = entry.job.id;
    const older = this.byId.get(id);
    if (older !== undefined) {
      // Takes the older attempt's place, as `Map#set` on a present key did.
      (this.entries[older] as RunningJob).runningAt = -1;
      this.entries[older] = entry;
      entry.runningAt = older;
    } else {
      entry.runningAt = this.entries.push(entry) - 1;
      this.byId.set(id, entry.runningAt);
    }
    if (this.awaited.size !== 0) this.tell(entry);
  }

  /**
   * Calls `then` with the next attempt of job `id` added here, once. At most
   * {@link MAX_AWAITED} ids are awaited at a time: past that, the oldest wait
   * lapses (most are for jobs that run on other nodes and never come here).
   */
  whenAdded(id: string, then: (entry: RunningJob) => void): void {
    this.awaited.delete(id);
    this.awaited.set(id, then);
    if (this.awaited.size > MAX_AWAITED) this.awaited.delete(this.awaited.keys().next().value as string);
  }

  remove(id: string, entry: RunningJob): void {
    const at = entry.runningAt;
    if (at < 0 || this.entries[at] !== entry) return;
    this.entries[at] = undefined;
    entry.runningAt = -1;
    this.byId.delete(id);
    if (++this.holes * 2 > this.entries.length) this.compact();
  }

  get(id: string): RunningJob | undefined {
    const at = this.byId.get(id);
    return at === undefined ? undefined : this.entries[at];
  }

  all(queue?: string): RunningJob[] {
    const all: RunningJob[] = [];
    for (const entry of this.entries) if (entry !== undefined && (queue === undefined || entry.job.queue === queue)) all.push(entry);
    return all;
  }

  get size(): number {
    return this.entries.length - this.holes;
  }

  private tell(entry: RunningJob): void {
    const then = this.awaited.get(entry.job.id);
    if (!then) return;
    this.awaited.delete(entry.job.id);
    then(entry);
  }

  /** Closes the holes in place (a new array would be one more table pointing at ended attempts). */
  private compact(): void {
    const entries = this.entries;
    let kept = 0;
    for (let at = 0; at < entries.length; at++) {
      const entry = entries[at];
      if (entry === undefined) continue;
      if (kept !== at) {
        entries[kept] = entry;
        entry.runningAt = kept;
        this.byId.set(entry.job.id, kept);
      }
      kept++;
    }
    entries.length = kept;
    this.holes = 0;
  }
}
