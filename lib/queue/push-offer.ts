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
  /** After {@link forget}: what the store holds is not known, so the next update writes whatever it is. */
  private unknown = false;
  private wanted: number | null = null;
  private writing: Promise<void> | null = null;

  constructor(
    private readonly push: JobPush,
    private readonly queue: string,
    private readonly node: string,
  ) {}

  /** `free`: slots neither running nor buffered; `idle`: the last claim found the queue empty. */
  update(free: number, idle: boolean): void {
    if (idle && free > 0 && (this.unknown || (this.offered * 2 <= free && this.offered !== free))) this.set(free);
    else if (free <= 0 && (this.unknown || this.offered > 0)) this.set(0);
  }

  /** A push took `count` slots of the offer. */
  took(count: number): void {
    this.offered = Math.max(0, this.offered - count);
  }

  /**
   * The store may have dropped the offer (it withdraws them while LISTEN is
   * down), or kept it (a gap shorter than its check): the next update writes
   * what it finds, an offer or a withdrawal, so a busy node does not leave a
   * stale offer that would bring it pushes it has no slot for.
   */
  forget(): void {
    if (!this.writing) this.unknown = true;
  }

  /** Withdraws the offer (pause, stop); settles once the store has it. */
  withdraw(): Promise<void> {
    if (this.offered > 0 || this.unknown || this.writing) this.set(0);
    return this.writing ?? Promise.resolve();
  }

  private set(slots: number): void {
    this.unknown = false;
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
        // Unknown whether it was written: the next update writes again, an offer or a withdrawal.
        if (this.wanted === null) this.unknown = true;
      }
    }
    this.writing = null;
  }
}
