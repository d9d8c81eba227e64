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

/**
 * The attempts running on this node, by job id.
 * @internal
 */
export class RunningJobs {
  private readonly byId = new Map<string, RunningJob>();

  add(entry: RunningJob): void {
    this.byId.set(entry.job.id, entry);
  }

  remove(id: string, entry: RunningJob): void {
    if (this.byId.get(id) === entry) this.byId.delete(id);
  }

  get(id: string): RunningJob | undefined {
    return this.byId.get(id);
  }

  all(queue?: string): RunningJob[] {
    const all = [...this.byId.values()];
    return queue === undefined ? all : all.filter((r) => r.job.queue === queue);
  }

  get size(): number {
    return this.byId.size;
  }
}
