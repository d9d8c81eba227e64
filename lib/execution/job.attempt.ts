import type { Context, Span } from '@opentelemetry/api';
import type { Clock } from '../clock/clock.js';
import type { JsonValue } from '../common/json.js';
import type { TimeoutEntry } from './attempt-timeouts.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import type { ChainResult } from '../middleware/middleware.chain.js';
import type { JobDefinition } from '../scheduler.registry.js';
import { JobAbortedError, type AbortReason } from '../scheduler.errors.js';
import type { Job } from '../store/job.types.js';
import type { AttemptProgress } from './attempt.progress.js';
import { tellableError } from './job-errors.js';
import type { AttemptRecords, ExecutionOutcome } from './execution.types.js';
import type { RunningJob } from './running-jobs.js';

/**
 * How an attempt's run ended: through the chain (handler and middleware), or by an abort.
 * @internal
 */
export type Settled = { kind: 'chain'; result: ChainResult } | { kind: 'abort'; reason: AbortReason; detail?: string };

/**
 * Follows the attempts one caller started (a queue runner follows all of its
 * own with one listener: no closure or promise per job). Each attempt calls
 * `handlerDone` once and `finished` once: in that order, but for an attempt
 * acknowledged while its aborted handler still runs.
 * @internal
 */
export interface AttemptListener {
  /**
   * The slot is free: the handler has returned (after an abort too: a handler
   * that ignores `ctx.signal` keeps its slot), or was never started, or was
   * given up on at shutdown. Its acknowledgement may be written before or after.
   */
  handlerDone(job: Job<unknown>): void;
  /**
   * The attempt is over: acknowledged, or its acknowledgement reported as
   * failed, with its outcome. `outcome` is null, with `error`, only when
   * settling the attempt threw.
   */
  finished(job: Job<unknown>, outcome: ExecutionOutcome | null, error?: unknown): void;
  /**
   * The attempt, asked to yield its slot, reached `ctx.checkpoint()`: its
   * slot is free until the promise resolves (resumed, or aborted).
   */
  suspend?(attempt: Attempt): Promise<void>;
}

/**
 * What every attempt of one executor shares: one object, not a closure each.
 * @internal
 */
export interface AttemptPorts {
  /** The attempt settled: by the end of its chain, or by an abort. */
  onSettled(attempt: Attempt, settled: Settled): void;
  /** A heartbeat of one attempt; false when it no longer owns its job. */
  beat(job: Job<unknown>): Promise<boolean>;
  /** Aborts an attempt found no longer owning its job, as a cancel or a lost lease (see `abortLost`). */
  lost(attempt: Attempt): Promise<void>;
  /** `ctx.progress`: checks, emits and writes (throttled). */
  reportProgress(attempt: Attempt, value: unknown): void;
  /** Writes progress now, unthrottled (a batch's checkpoint); false when the attempt no longer holds its job. */
  saveProgress(attempt: Attempt, value: unknown): Promise<boolean>;
  clock: Clock;
  events: SchedulerEvents;
}

/**
 * One attempt in progress on this node: what the running-jobs registry
 * holds, and the state behind the handler's `JobContext`. It settles
 * exactly once, by whichever comes first: the end of the chain, or an abort
 * (timeout, cancel, shutdown, lease lost), which does not wait for the
 * handler.
 *
 * One object per attempt instead of a dozen closures and promises: at tens
 * of thousands of jobs a second, the executor's allocations were a large part
 * of the garbage collector's 20-27 % of a drain.
 * @internal
 */
export class Attempt implements RunningJob, TimeoutEntry {
  /** Set by the first abort; read by `ctx.abortReason`. */
  reason: AbortReason | undefined;
  /** The executor's state of this attempt: when it started, its timeout, span and handler. */
  started = 0;
  runningAt = -1;
  /** Its timeout, kept by the executor's `AttemptTimeouts`. */
  timeoutAt = 0;
  timeoutPrev: TimeoutEntry | null = null;
  timeoutNext: TimeoutEntry | null = null;
  timeoutList: TimeoutEntry['timeoutList'] = null;
  span: Span | null = null;
  trace: Context | null = null;
  definition: JobDefinition | null = null;
  /** Its job's metric records, when metrics record. */
  records: AttemptRecords | null = null;
  /** The circuit breaker told of this attempt's outcome, or `null`. */
  breaker: string | null = null;
  /** Whether a timeout of this attempt is retried, as the executor found when it fired; `null` before. */
  retriesAfterTimeout: boolean | null = null;
  /** Runs when the slot frees (the executor clears its ignored-signal warning there). */
  onSlotFreed: (() => void) | null = null;
  /** What its completion reports once written (the executor's batched acknowledgements). */
  ackDuration = 0;
  ackResult: unknown = undefined;
  ackValue: JsonValue | null = null;
  /** Writes this attempt's `ctx.progress` reports, made at the first one. */
  progress: AttemptProgress | null = null;
  /** Asked to yield its slot to a more urgent job (`ctx.preempted`). */
  preempted = false;
  /** Ends a suspension at `ctx.checkpoint()`; an abort calls it too, so the handler sees its signal. */
  wake: (() => void) | null = null;
  private suspension: Promise<void> | null = null;
  private controller: AbortController | null = null;
  /** The handler (or middleware chain) has been called and has not returned yet. */
  private inHandler = false;
  /** An abort that waits for the handler to return before the attempt settles. */
  private pending: Settled | null = null;
  private slotFreed = false;
  private finished = false;
  private acked = false;
  private donePromise: Promise<unknown> | null = null;
  private resolveDone: (() => void) | null = null;

  constructor(
    readonly job: Job<unknown>,
    readonly ports: AttemptPorts,
    readonly listener: AttemptListener,
  ) {}

  /**
   * Settles when the attempt has been acknowledged. Made only when asked
   * for (shutdown and the testing helper wait on it; a drain never does).
   */
  get done(): Promise<unknown> {
    if (this.acked) return RESOLVED;
    return (this.donePromise ??= new Promise<void>((resolve) => (this.resolveDone = resolve)));
  }

  /** The executor has acknowledged the attempt (or reported why it could not). */
  acknowledged(): void {
    this.acked = true;
    this.resolveDone?.();
  }

  /**
   * The AbortController is made only when the handler reads `ctx.signal`:
   * most handlers never do, and its allocation showed up in profiles
   * (≈4 % of a memory-store drain).
   */
  signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(new JobAbortedError(this.reason));
    }
    return this.controller.signal;
  }

  /**
   * Aborts the signal. The slot stays taken until the handler returns, so a
   * handler that ignores `ctx.signal` never runs beside more jobs than the
   * queue's concurrency. The acknowledgement waits for the handler too when
   * writing it would let the job run again elsewhere (a timeout with a retry
   * to come, a shutdown hand-back): until then the job keeps its heartbeat
   * and is never rescued. A cancel, a lost lease or a last attempt that timed
   * out is acknowledged at once.
   */
  abort(reason: AbortReason, detail?: string): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(new JobAbortedError(reason));
    this.wake?.();
    const settled: Settled = detail === undefined ? { kind: 'abort', reason } : { kind: 'abort', reason, detail };
    const runsAgain =
      reason === 'shutdown' || reason === 'preempted' || (reason === 'timeout' && (this.retriesAfterTimeout ?? this.job.attempt < this.job.maxAttempts));
    if (this.inHandler && runsAgain) this.pending = settled;
    else this.settle(settled);
  }

  /** Whether the handler is still running after an abort (it ignores `ctx.signal`). */
  get abortIgnored(): boolean {
    return this.inHandler && this.reason !== undefined;
  }

  /**
   * Settles an abort that is waiting for its handler, without waiting any
   * longer (shutdown, after the grace period and the abort grace), and frees
   * the slot: the job is handed back while its handler may run on until the
   * process exits.
   */
  forceSettle(): void {
    const settled = this.pending;
    this.pending = null;
    if (settled) this.settle(settled);
    this.freeSlot();
  }

  /** The handler is being called: from now on the slot frees only when it returns. */
  handlerStarted(): void {
    this.inHandler = true;
  }

  /** The chain ended; after an abort, the abort is what settles the attempt. */
  chainDone(result: ChainResult): void {
    this.inHandler = false;
    if (result.status === 'failed') result = { status: 'failed', error: tellableError(result.error) };
    const settled = this.pending ?? (result === COMPLETED_VOID ? SETTLED_VOID : { kind: 'chain', result });
    this.pending = null;
    this.settle(settled);
    this.freeSlot();
  }

  /** `ctx.checkpoint()`: at once, unless the attempt was asked to yield and its runner can suspend it. */
  checkpoint(): Promise<void> {
    if (this.suspension) return this.suspension;
    if (!this.preempted || this.reason !== undefined || !this.inHandler || !this.listener.suspend) return RESOLVED_VOID;
    // One suspension for every caller: a batch's concurrent items reach their checkpoints together.
    this.suspension = this.listener.suspend(this).then(() => {
      this.suspension = null;
    });
    return this.suspension;
  }

  /** Whether the attempt has settled (an attempt aborted before its handler started must not start it). */
  get isSettled(): boolean {
    return this.finished;
  }

  /** Whether the slot is still taken by a handler that has not returned. */
  get holdsSlot(): boolean {
    return this.inHandler;
  }

  /** Frees the slot once: at settling when no handler runs, else when it returns (or is given up on). */
  private freeSlot(): void {
    if (this.slotFreed || !this.finished) return;
    this.slotFreed = true;
    this.onSlotFreed?.();
    this.listener.handlerDone(this.job);
  }

  private settle(settled: Settled): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.inHandler) this.freeSlot();
    this.ports.onSettled(this, settled);
  }
}

const RESOLVED: Promise<unknown> = Promise.resolve();

/**
 * The chain result of a handler that returned nothing, shared (frozen):
 * most handlers do, and two objects a job were garbage.
 * @internal
 */
export const COMPLETED_VOID: ChainResult = Object.freeze({ status: 'completed', result: undefined });
const SETTLED_VOID: Settled = Object.freeze({ kind: 'chain', result: COMPLETED_VOID });
const RESOLVED_VOID: Promise<void> = Promise.resolve();
