import { Logger } from '@nestjs/common';
import type { Clock } from '../clock/clock.js';
import { FailureReport } from '../common/failure-report.js';
import type { AttemptListener } from '../execution/job.attempt.js';
import type { JobExecutor } from '../execution/job.executor.js';
import type { RunningJobs } from '../execution/running-jobs.js';
import type { AttemptRef, ClaimKey, HeartbeatRef, JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import { timeStore, type StoreTimer } from '../telemetry/metrics/store-timer.js';
import { BufferHold } from './buffer-hold.js';
import { ClaimCursor } from './claim-cursor.js';
import { JobBuffer } from './job.buffer.js';
import { LookAhead } from './look-ahead.js';
import { PushOffer } from './push-offer.js';
import { RateLimitedClaims, type QueueRateLimit } from './rate-limited.claims.js';
import type { QueuePreemption } from './queue.preemption.js';

/**
 * What a queue runner needs.
 * @internal
 */
export interface QueueRunnerDeps {
  store: JobStore;
  executor: JobExecutor;
  running: RunningJobs;
  clock: Clock;
  node: string;
  /** The queue's rate limits, when any bucket applies to its jobs (the store must keep rate limits). */
  rateLimit?: QueueRateLimit;
  /** The queue's preemption (`queues.<name>.preemption`), when on. */
  preemption?: QueuePreemption;
  /** Times its claims (`scheduler.store.operation.duration`). @default none */
  storeTimer?: StoreTimer | null;
  /** Attempts ended here and not yet acknowledged past which claims wait. @default MAX_UNACKED */
  maxUnacked?: number;
  /**
   * How long (ms) buffered jobs are taken to be this node's without a claim
   * or heartbeat to prove it; past that (the process stood still, or its
   * heartbeats failed), the buffer is heartbeated before another of its
   * jobs starts (see {@link BufferHold}). `rescueAfter / 2` in a scheduler. @default never
   */
  doubtAfter?: number;
}

/**
 * Acknowledgements a runner lets pile up before it stops claiming: a slot
 * frees when its handler ends, before the store has written the ack, so
 * without a bound a store whose acks fall behind its claims (PostgreSQL
 * writing completions 2 × 500 at a time under load) would let claimed,
 * finished, unwritten jobs grow without end (366k seen in a 1M drain).
 * Large enough that the ack batches stay full.
 * @internal
 */
export const MAX_UNACKED = 2_000;

/**
 * Why a runner was woken: new work (`insert`), a finished job, the poll, or
 * a `resync` (notifications may have been missed: a poll that also offers
 * idle slots again).
 * @internal
 */
export type WakeReason = 'insert' | 'finished' | 'poll' | 'resync';

/**
 * Runs one queue's jobs on this node with at most `concurrency` at once.
 *
 * It claims its free slots plus some jobs ahead (adaptive, at most
 * `prefetch`; see {@link LookAhead}) in one statement into a local buffer, so a
 * busy queue pays one claim per batch rather than one per job. The buffer
 * keeps every promise of an unbuffered claim:
 * - buffered jobs are heartbeated like running ones, so they are never
 *   rescued from a live node, and one found rescued or cancelled elsewhere
 *   is dropped before it starts; after a stall (a handler that blocked the
 *   event loop), none starts before a heartbeat has found it still held;
 * - new work more urgent than the least urgent buffered job is claimed at
 *   once and goes to the front (priority 0 never waits behind a full buffer);
 * - pausing the queue or shutting down hands buffered jobs back at once
 *   (`unclaim`), without costing them an attempt.
 * It stops claiming while {@link MAX_UNACKED} ended attempts wait for
 * their acknowledgement, and goes on as they are written.
 * @internal
 */
export class QueueRunner {
  private readonly logger = new Logger('Scheduler');
  private readonly buffer = new JobBuffer();
  private readonly hold: BufferHold;
  /** Settles the proof of the node's heartbeat under way (see {@link heartbeatRefs}). */
  private beatAnswered: ((held: boolean) => void) | null = null;
  private active = 0;
  private claiming = false;
  /** The claim loop under way, so a stop can wait for its answer and hand it back. */
  private filling: Promise<void> | null = null;
  private again = false;
  /** The last claim found nothing: 'finished' wake-ups only launch buffered jobs until new work is signalled. */
  private exhausted = false;
  /** Counts signals of new work (insert, poll), so a claim that was under way when one came does not mark the queue dry. */
  private signals = 0;
  private urgentCheck = false;
  private stopped = true;
  private paused = false;
  /** Attempts started here and not yet acknowledged. */
  private inflight = 0;
  /** Claims wait for acknowledgements (see {@link MAX_UNACKED}). */
  private heldByAcks = false;
  private readonly maxUnacked: number;
  private readonly drained: (() => void)[] = [];
  /** When the claim under way was sent (epoch ms), `null` when none is. */
  private claimSince: number | null = null;
  private readonly lookAhead: LookAhead;
  private readonly cursor = new ClaimCursor();
  /** This runner's offer of idle slots, when the store pushes to idle nodes. */
  private readonly offer: PushOffer | null;
  /** Claims through the buckets, when the queue's jobs are rate limited. */
  private readonly limited: RateLimitedClaims | null;
  /** An outage logs a line when claims fail and one when they work again, not one a poll. */
  private readonly claimFailures: FailureReport;

  constructor(
    readonly name: string,
    private concurrency: number,
    readonly shutdownGracePeriod: number,
    prefetch: number,
    private readonly deps: QueueRunnerDeps,
  ) {
    const rates = deps.rateLimit && deps.store.rateLimits ? new RateLimitedClaims(deps.store.rateLimits, deps.rateLimit) : null;
    this.lookAhead = new LookAhead(prefetch, concurrency);
    this.maxUnacked = deps.maxUnacked ?? MAX_UNACKED;
    this.hold = new BufferHold({
      queue: name,
      store: deps.store,
      storeTimer: deps.storeTimer ?? null,
      clock: deps.clock,
      doubtAfter: deps.doubtAfter ?? Infinity,
      jobs: () => this.buffer.jobs,
      drop: (ref) => void this.buffer.remove(ref.id, ref.attempt),
      resume: () => this.launchBuffered(),
    });
    this.limited = rates;
    this.claimFailures = new FailureReport(this.logger, `queue ${name}: claim`, false);
    // Jobs pushed by another node's insert, or claimed at insert, would skip the buckets.
    this.offer = deps.store.push && !rates ? new PushOffer(deps.store.push, name, deps.node) : null;
  }

  get limit(): number {
    return this.concurrency;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Jobs of this queue running on this node. */
  get busy(): number {
    return this.active;
  }

  /** Claimed jobs waiting in the buffer (they count as running in the store). */
  get buffered(): readonly Job<unknown>[] {
    return this.buffer.jobs;
  }

  /** Ids of the jobs whose handlers run here (suspended ones too: see {@link suspended}). */
  get running(): string[] {
    return this.deps.running
      .all(this.name)
      .filter((r) => r.holdsSlot)
      .map((r) => r.job.id);
  }

  /** Whether the queue preempts here. */
  get preempts(): boolean {
    return this.deps.preemption !== undefined;
  }

  /** Attempts suspended at their checkpoint for more urgent jobs (they hold no slot). */
  get suspended(): Job<unknown>[] {
    return this.deps.preemption?.jobs ?? [];
  }

  /** Since when (epoch ms) a claim of this runner has been waiting for the store's answer, or `null`. */
  get claimingSince(): number | null {
    return this.claimSince;
  }

  start(): void {
    this.stopped = false;
    this.wake('poll');
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (paused) {
      void this.offer?.withdraw();
      void this.releaseBuffer();
    } else this.wake('poll');
  }

  scale(concurrency: number): void {
    this.concurrency = concurrency;
    this.wake('poll');
  }

  /**
   * Looks for due jobs if there are free slots, or for urgent ones if the
   * buffer holds less urgent work. `first`: for an insert, the first new job
   * in claim order, when the notice says.
   */
  wake(why: WakeReason = 'poll', first?: ClaimKey): void {
    if (why === 'resync') this.offer?.forget();
    const reason = why === 'resync' ? 'poll' : why;
    if (reason === 'poll') this.cursor.reset();
    else if (reason === 'insert') this.cursor.inserted(first);
    if (this.stopped || this.paused) return;
    if (reason !== 'finished') {
      this.exhausted = false;
      this.signals++;
      if (this.buffer.worstPriority() > 0) this.urgentCheck = true;
      // Full, with running attempts that could yield to more urgent work.
      else if (this.deps.preemption && this.active >= this.concurrency && this.deps.preemption.worstYielding() > 0) this.urgentCheck = true;
    }
    // A freed slot takes a buffered job at once, even while a claim is under way.
    this.launchBuffered();
    if (!this.urgentCheck && !this.wantsMore()) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.filling = this.fill();
  }

  /**
   * Whether `count` jobs enqueued now may be inserted already claimed by this
   * node (`InsertOptions.claimFor`): the runner has the free slots, nothing
   * buffered, no claim under way, and its last claim found the queue empty,
   * so starting them first takes no turn from older work.
   */
  canTakeAtInsert(count: number): boolean {
    return (
      !this.limited && !this.stopped && !this.paused && this.exhausted && !this.claiming && this.buffer.size === 0 && this.concurrency - this.active >= count
    );
  }

  /** Runs jobs this node claimed (by a call sent at `claimedAt`) while inserting them; hands them back if it can no longer. */
  adopt(jobs: readonly Job<unknown>[], claimedAt = this.deps.clock.now()): void {
    if (jobs.length === 0) return;
    this.addToBuffer(jobs, claimedAt);
    if (this.stopped || this.paused) void this.releaseBuffer();
    else this.launchBuffered();
  }

  /**
   * Runs jobs another node's insert claimed for this one (a `push`
   * notification: this runner had offered idle slots). Those cancelled or
   * rescued since are not read, and their ids are what it resolves to; if
   * this runner can no longer run the others, {@link adopt} hands them back.
   */
  async takePushed(claim: string, ids: readonly string[]): Promise<string[]> {
    const push = this.deps.store.push;
    if (!push) return [];
    this.offer?.took(ids.length);
    const now = this.deps.clock.now();
    const taken = await push.take(this.deps.node, claim, ids, new Date(now));
    this.adopt(taken, now);
    this.updateOffer();
    if (taken.length === ids.length) return [];
    const got = new Set(taken.map((job) => job.id));
    return ids.filter((id) => !got.has(id));
  }

  /**
   * The buffered jobs, for the node's heartbeat sent at `now`; then
   * {@link heartbeatAnswered} once it answers (the lost ones dropped first) or fails.
   */
  heartbeatRefs(now: number): HeartbeatRef[] {
    this.beatAnswered?.(false);
    this.beatAnswered = this.buffer.size === 0 ? null : this.hold.beat(now);
    return this.buffer.jobs.map((job) => ({ id: job.id, attempt: job.attempt, startedAt: null }));
  }

  /** The node's heartbeat of {@link heartbeatRefs} answered (`held`: the jobs it did not report lost are still this node's) or failed. */
  heartbeatAnswered(held: boolean): void {
    this.beatAnswered?.(held);
    this.beatAnswered = null;
  }

  /** Drops a buffered job that was cancelled or rescued elsewhere (it must not start); only in its `attempt` when one is given. The job dropped, if any. */
  drop(jobId: string, attempt?: number): Job<unknown> | undefined {
    return this.buffer.remove(jobId, attempt);
  }

  /**
   * Stops claiming and starting jobs, at once: the first step of a shutdown,
   * taken before leadership is handed over (a release the store answers late
   * must not let buffered jobs start in the meantime). {@link stopClaiming}
   * then hands the buffer back.
   */
  halt(): void {
    this.stopped = true;
  }

  /**
   * Stops claiming and hands buffered jobs back, including those of a claim
   * still under way (they would otherwise sit claimed, unheartbeated, until
   * the lifeline rescued them at the cost of an attempt). Running jobs go on
   * until {@link drain} or abort.
   */
  async stopClaiming(): Promise<void> {
    this.halt();
    await this.offer?.withdraw();
    await this.filling;
    await this.releaseBuffer();
  }

  /** Settles once no claim of this runner is under way (a claim started meanwhile is waited for too). */
  async claimsSettled(): Promise<void> {
    while (this.filling) await this.filling;
  }

  /** Settles when every job started here has been acknowledged. */
  async drain(): Promise<void> {
    while (this.inflight > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  private async releaseBuffer(): Promise<void> {
    this.cursor.reset();
    const jobs = this.buffer.clear();
    if (jobs.length === 0) return;
    const refs: AttemptRef[] = jobs.map((job) => ({ id: job.id, attempt: job.attempt }));
    try {
      await this.deps.store.unclaim(refs);
    } catch (error) {
      // Left `running`: the lifeline returns them after `rescueAfter`.
      this.logger.error(`queue ${this.name}: handing back ${refs.length} buffered job(s) failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  private async fill(): Promise<void> {
    this.claiming = true;
    try {
      do {
        this.again = false;
        if (this.urgentCheck) await this.claimUrgent();
        this.launchBuffered();
        while (this.wantsMore()) {
          // A token is taken at the claim: while tokens are short, only free slots, so jobs start as they take theirs.
          const ahead = this.limited?.short ? 0 : this.lookAhead.next(this.deps.clock.now(), this.concurrency);
          const signals = this.signals;
          const limit = this.concurrency - this.active + ahead - this.buffer.size;
          // A rate-limited claim starts from the front: the jobs it held back wait there.
          const after = this.limited ? undefined : this.cursor.after;
          const jobs = await this.claim(limit, undefined, this.concurrency - this.active - this.buffer.size, after);
          this.cursor.claimed(jobs, limit);
          if (jobs.length > 0) {
            this.lookAhead.claimed(this.deps.clock.now());
          } else if (after === undefined && this.signals === signals) {
            // Empty from the start, and nothing announced new work meanwhile (a job
            // inserted as this claim ran may have committed after its snapshot: claim again).
            // Empty past the cursor: the cursor is gone, and the next claim looks from the start.
            this.exhausted = true;
          }
          this.launchBuffered();
        }
      } while (this.again && !this.stopped && !this.paused);
      this.claimFailures.succeeded();
    } catch (error) {
      // The store is unreachable: the next poll tries again.
      this.claimFailures.failed(error);
    } finally {
      this.claiming = false;
      this.filling = null;
      this.updateOffer();
      // A claim answered after a pause or stop began: its jobs must not wait in the buffer.
      if ((this.stopped || this.paused) && this.buffer.size > 0) await this.releaseBuffer();
    }
  }

  /**
   * Whether to claim now. The next batch is claimed while the buffer still
   * holds half the look-ahead, so the claim's round trip overlaps with the
   * jobs being run instead of leaving the slots idle while it is under way
   * (claiming only on an empty buffer left the Node process idle 30 % of a
   * drain on PostgreSQL). After an empty claim the queue is taken to be dry
   * until something says otherwise (an insert, the poll, a serial job ending).
   */
  private wantsMore(): boolean {
    if (this.stopped || this.paused || this.exhausted) return false;
    if (this.inflight - this.active >= this.maxUnacked) {
      this.heldByAcks = true;
      return false;
    }
    return this.buffer.size < this.concurrency - this.active + (this.limited?.short ? 0 : this.lookAhead.refillAt);
  }

  /**
   * Fills free slots: a suspended attempt first when it is at least as urgent
   * as the next buffered job (even while stopping: it holds its job already),
   * then buffered jobs. With every slot taken, buffered jobs more urgent
   * than running attempts ask those to yield.
   */
  private launchBuffered(): void {
    const preemption = this.deps.preemption;
    let checked = false;
    while (this.active < this.concurrency) {
      const open = !this.stopped && !this.paused;
      if (preemption !== undefined && preemption.size > 0 && preemption.resumeNext(open ? this.buffer.peek() : undefined)) {
        this.active++;
        continue;
      }
      if (!open || this.buffer.size === 0) break;
      // Once a call: one clock read however many jobs start.
      if (!checked) {
        checked = true;
        if (!this.hold.mayStart()) break;
      }
      this.launch(this.buffer.shift()!);
    }
    if (preemption !== undefined && this.active >= this.concurrency && this.buffer.size > 0 && !this.stopped && !this.paused) {
      const worst = preemption.worstYielding();
      if (worst > 0) preemption.askFor(this.buffer.jobs.filter((job) => job.priority < worst));
    }
  }

  /** Offers the free slots of an idle runner to other nodes' inserts (see {@link PushOffer}). */
  private updateOffer(): void {
    if (!this.offer || this.stopped || this.paused) return;
    this.offer.update(this.concurrency - this.active - this.buffer.size, this.exhausted && !this.claiming && this.buffer.size === 0);
  }

  /** Claims work more urgent than the least urgent buffered job, so it does not wait behind the buffer. */
  private async claimUrgent(): Promise<void> {
    this.urgentCheck = false;
    const yielding = this.deps.preemption && this.active >= this.concurrency ? this.deps.preemption.worstYielding() : -1;
    const worst = Math.max(this.buffer.worstPriority(), yielding);
    if (worst <= 0 || this.stopped || this.paused) return;
    const jobs = await this.claim(Math.max(1, this.concurrency), worst - 1, this.concurrency - this.active - this.buffer.size);
    if (jobs.length > 0) this.launchBuffered();
  }

  /**
   * `start`: how many of the claimed jobs go to free slots at once (their
   * start is recorded by the claim); the rest wait in the buffer, and a
   * crash before they start does not cost them an attempt. The claimed
   * jobs join the buffer.
   */
  private async claim(limit: number, maxPriority: number | undefined, start: number, after?: ClaimKey): Promise<Job<unknown>[]> {
    const sent = (this.claimSince = this.deps.clock.now());
    try {
      const jobs = await this.sendClaim(limit, maxPriority, start, after);
      this.addToBuffer(jobs, sent);
      return jobs;
    } finally {
      this.claimSince = null;
    }
  }

  /** Jobs claimed by a call sent at `claimedAt` join the buffer. */
  private addToBuffer(jobs: readonly Job<unknown>[], claimedAt: number): void {
    if (jobs.length === 0) return;
    this.hold.added(claimedAt, this.buffer.size === 0);
    this.buffer.add(jobs);
  }

  private sendClaim(limit: number, maxPriority: number | undefined, start: number, after?: ClaimKey): Promise<Job<unknown>[]> {
    const request = {
      queue: this.name,
      limit,
      node: this.deps.node,
      now: new Date(this.deps.clock.now()),
      start: Math.max(0, start),
      ...(maxPriority === undefined ? {} : { maxPriority }),
      ...(after === undefined ? {} : { after }),
    };
    if (this.limited) return this.limited.claim(request);
    const store = this.deps.store;
    return timeStore(this.deps.storeTimer, 'claim', () => store.claim(request));
  }

  private launch(job: Job<unknown>): void {
    this.active++;
    this.inflight++;
    if (job.startedAt === null && wasRescued(job)) void this.launchRecorded(job);
    else this.deps.executor.run(job, this.listener);
  }

  /**
   * A job claimed ahead whose start only a heartbeat would record, and that
   * was rescued before: perhaps it kills its node. Its start is recorded
   * before its handler runs, so that if it does, the crash counts against
   * its attempts (only a job never started gets its attempt back). One
   * round trip, for such jobs only.
   */
  private async launchRecorded(job: Job<unknown>): Promise<void> {
    const now = this.deps.clock.now();
    let lost = true;
    try {
      const store = this.deps.store;
      lost =
        (await timeStore(this.deps.storeTimer, 'heartbeat', () => store.heartbeat([{ id: job.id, attempt: job.attempt, startedAt: now }], new Date(now))))
          .length > 0;
    } catch (error) {
      this.logger.error(`queue ${this.name}: recording the start of job ${job.id} failed, handing it back: ${(error as Error)?.message ?? String(error)}`);
      await this.deps.store.unclaim([{ id: job.id, attempt: job.attempt }]).catch(() => undefined);
    }
    if (!lost) return this.deps.executor.run(job, this.listener);
    this.active--;
    if (--this.inflight === 0) for (const resolve of this.drained.splice(0)) resolve();
    this.wake('finished');
  }

  /**
   * Follows every attempt this runner starts (one object, not closures per
   * job). The slot frees when the handler ends; the acknowledgement
   * completes in the background (drain() and shutdown still wait for it).
   */
  private readonly listener: AttemptListener = {
    handlerDone: (job) => {
      // A suspended attempt aborted before it resumed held no slot.
      if (!this.deps.preemption?.ended(job.id)) this.active--;
      this.wake('finished');
      this.updateOffer();
    },
    finished: (job, outcome) => {
      if (--this.inflight === 0) for (const resolve of this.drained.splice(0)) resolve();
      if (this.heldByAcks && this.inflight - this.active < this.maxUnacked) {
        this.heldByAcks = false;
        this.wake('finished');
      }
      // The acknowledgement of a serial job may unblock the next one of its key, and a
      // preempted job queued again is work no insert announces: look again.
      if (job.serialKey !== null || outcome?.outcome === 'released') {
        this.exhausted = false;
        this.cursor.reset();
        this.wake('finished');
      }
    },
    suspend: (attempt) => {
      const resumed = this.deps.preemption!.suspend(attempt);
      this.active--;
      this.launchBuffered();
      this.updateOffer();
      return resumed;
    },
  };
}

/** Whether a job was rescued before (a node died holding it). */
function wasRescued(job: Job<unknown>): boolean {
  if (job.errors.length === 0) return false;
  for (const error of job.errors) if (error.kind === 'lease-lost' || error.kind === 'unstarted') return true;
  return false;
}
