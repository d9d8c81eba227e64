import type { JobPush } from '../store/job-store.js';

/**
 * One queue runner's offer of idle slots to other nodes' inserts (push to
 * idle nodes, see `JobPush`). The offer is a hint kept cheap: it is written
 * when the runner finds its queue empty and less than half of its free
 * slots are still on offer, withdrawn when no slot is free, and never
 * waited for by the runner. A push received takes its slots off the count
 * at once; a failed write is forgotten (the next change writes again).
 * @internal
 */
export class PushOffer {
  /** Slots on offer as far as this node knows (the store may hold fewer: pushes take them). */
  private offered = 0;
  private wanted: number | null = null;
  private writing: Promise<void> | null = null;

  constructor(
    private readonly push: JobPush,
    private readonly queue: string,
    private readonly node: string,
  ) {}

  /** `free`: slots neither running nor buffered; `idle`: the last claim found the queue empty. */
  update(free: number, idle: boolean): void {
    if (idle && free > 0 && this.offered * 2 <= free && this.offered !== free) this.set(free);
    else if (free <= 0 && this.offered > 0) this.set(0);
  }

  /** A push took `count` slots of the offer. */
  took(count: number): void {
    this.offered = Math.max(0, this.offered - count);
  }

  /** The store may have dropped the offer (it withdraws them while LISTEN is down): the next update offers again. */
  forget(): void {
    if (!this.writing) this.offered = 0;
  }

  /** Withdraws the offer (pause, stop); settles once the store has it. */
  withdraw(): Promise<void> {
    if (this.offered > 0 || this.writing) this.set(0);
    return this.writing ?? Promise.resolve();
  }

  private set(slots: number): void {
    this.offered = slots;
    this.wanted = slots;
    this.writing ??= this.flush();
  }

  private async flush(): Promise<void> {
    while (this.wanted !== null) {
      const slots = this.wanted;
      this.wanted = null;
      try {
        const offered = await this.push.offer(this.queue, this.node, slots);
        if (this.wanted === null) this.offered = offered;
      } catch {
        // Unknown whether it was written: the next update offers again.
        if (this.wanted === null) this.offered = 0;
      }
    }
    this.writing = null;
  }
}
