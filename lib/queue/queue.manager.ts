import type { LoopTask } from '../planner/scheduler.loop.js';
import type { ClaimKey } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import type { QueueRunner, WakeReason } from './queue.runner.js';

/**
 * This node's queue runners, and the loop task that wakes them: every
 * `pollInterval` (the fallback when a notification is lost) and at the
 * `runAt` of delayed jobs and retries inserted here, so those start on time
 * rather than at the next poll.
 * @internal
 */
export class QueueManager implements LoopTask {
  readonly name = 'queue-wakeups';
  private readonly runners = new Map<string, QueueRunner>();
  private readonly wakeups = new Map<string, number>();
  private nextPoll: number | null = null;

  constructor(
    private readonly pollInterval: number,
    private readonly poke: () => void,
  ) {}

  add(runner: QueueRunner): void {
    this.runners.set(runner.name, runner);
  }

  get(queue: string): QueueRunner | undefined {
    return this.runners.get(queue);
  }

  all(): QueueRunner[] {
    return [...this.runners.values()];
  }

  /** `first`: for an insert, the first new job in claim order, when known. */
  wake(queue: string, reason: WakeReason = 'poll', first?: ClaimKey): void {
    this.runners.get(queue)?.wake(reason, first);
  }

  /**
   * Runs a push this node received (see `QueueRunner.takePushed`); resolves
   * to the ids it did not get (cancelled or rescued since). Without a
   * runner of that queue here the jobs stay claimed until the rescue gives
   * them back (their attempt not counted): a runner withdraws its offer
   * before it goes.
   */
  async takePushed(queue: string, claim: string, ids: readonly string[]): Promise<string[]> {
    return (await this.runners.get(queue)?.takePushed(claim, ids)) ?? [];
  }

  /** `resync`: notifications may have been lost (see `WakeReason`). */
  wakeAll(reason: 'poll' | 'resync' = 'poll'): void {
    for (const runner of this.runners.values()) runner.wake(reason);
  }

  /** Drops a job from whichever prefetch buffer holds it (cancelled or rescued elsewhere); only in its `attempt` when one is given. The job dropped, if any. */
  drop(jobId: string, attempt?: number): Job<unknown> | undefined {
    for (const runner of this.runners.values()) {
      const dropped = runner.drop(jobId, attempt);
      if (dropped) return dropped;
    }
    return undefined;
  }

  /** Whether a prefetch buffer of this node holds the job (in any attempt). */
  holds(jobId: string): boolean {
    for (const runner of this.runners.values()) if (runner.buffered.some((job) => job.id === jobId)) return true;
    return false;
  }

  /** Puts back jobs this node still holds (claimed by a call, or proved held by a read, sent at `heldAt`) into their queue's buffer (see `QueueRunner.adopt`). */
  adopt(queue: string, jobs: readonly Job<unknown>[], heldAt: number): void {
    this.runners.get(queue)?.adopt(jobs, heldAt);
  }

  /** Wakes `queue` at `at` (epoch ms); keeps the earliest per queue. */
  wakeAt(queue: string, at: number): void {
    if (!this.runners.has(queue)) return;
    const current = this.wakeups.get(queue);
    if (current !== undefined && current <= at) return;
    this.wakeups.set(queue, at);
    this.poke();
  }

  nextAt(now: number): number | null {
    if (this.runners.size === 0) return null;
    if (this.nextPoll === null) this.nextPoll = now + this.pollInterval;
    let next = this.nextPoll;
    for (const at of this.wakeups.values()) if (at < next) next = at;
    return next;
  }

  async run(now: number): Promise<void> {
    const poll = this.nextPoll !== null && this.nextPoll <= now;
    if (poll) this.nextPoll = now + this.pollInterval;
    for (const [queue, at] of this.wakeups) {
      if (at > now) continue;
      this.wakeups.delete(queue);
      if (!poll) this.wake(queue);
    }
    if (poll) this.wakeAll();
  }
}
