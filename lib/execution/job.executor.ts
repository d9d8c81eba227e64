import { Logger } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import { runMiddlewareChain } from '../middleware/middleware.chain.js';
import type { JobDefinition } from '../scheduler.registry.js';
import type { Job } from '../store/job.types.js';
import { endAttemptSpan, startAttemptSpan } from '../telemetry/tracing.js';
import type { JobContext } from './job-context.js';
import type { ExecutionOutcome, ExecutorDeps } from './execution.types.js';
import { Attempt, COMPLETED_VOID, type AttemptListener, type AttemptPorts, type Settled } from './job.attempt.js';
import { AttemptContext } from './attempt.context.js';
import { describe, JobSettler, label } from './job.settler.js';
import { tripsCircuit } from '../breakers/breaker.failures.js';
import { progressPorts } from './attempt.progress.js';
import { timeStore } from '../telemetry/metrics/store-timer.js';
import { AttemptTimeouts } from './attempt-timeouts.js';
import { AttemptCompletions } from './attempt.completions.js';
import { abortLost } from './lost-attempt.js';

export type { ExecutionOutcome, ExecutorDeps } from './execution.types.js';

/**
 * How long after an abort a handler still running is reported as ignoring `ctx.signal`.
 * @internal
 */
export const IGNORED_SIGNAL_AFTER = 5_000;
/**
 * How long after a job is due (or inserted, if later) a node without its
 * handler hands it back for another node rather than fail an attempt: the
 * span of a rolling deploy that adds a job.
 * @internal
 */
export const UNHANDLED_GRACE = 10 * 60_000;
/**
 * How long a job handed back for want of a handler waits before it is due again, in ms.
 * @internal
 */
export const UNHANDLED_RETRY = 5_000;
const RESOLVED = Promise.resolve();

/**
 * Runs claimed attempts: context and signal, timeout, middleware chain,
 * handler, span and events, then exactly one acknowledgement to the store.
 * Never throws: a handler's failure is recorded, logged and emitted.
 *
 * Per job it allocates the attempt, the handler's context and the
 * acknowledgement's promise, little else: a memory-store drain runs ~100k
 * jobs a second, where every closure and promise per job showed up as
 * garbage-collector time.
 * @internal
 */
export class JobExecutor {
  private readonly logger = new Logger('Scheduler');
  private readonly settler: JobSettler;
  /** Attempts whose handlers start in the next microtask, all in one. */
  private starting: Attempt[] = [];
  /** Names whose jobs this node handed back for want of a handler, told once each. */
  private readonly unhandledNames = new Set<string>();

  private readonly ports: AttemptPorts;
  private readonly completions: AttemptCompletions;
  private readonly timeouts: AttemptTimeouts<Attempt>;

  constructor(private readonly deps: ExecutorDeps) {
    this.settler = new JobSettler(deps);
    this.completions = new AttemptCompletions(deps, this.settler, (attempt, outcome, error) => this.finish(attempt, outcome, error));
    this.timeouts = new AttemptTimeouts(deps.clock, (attempt) => this.timedOut(attempt));
    this.ports = {
      onSettled: this.onSettled,
      beat: this.beat,
      lost: (attempt) => abortLost(deps.store, attempt),
      ...progressPorts(deps, (job, error) => this.logger.warn(`${label(job)} (${job.id}): recording its progress failed: ${describe(error)}`)),
      clock: deps.clock,
      events: deps.events,
    };
  }

  /** Runs one attempt; settles with its outcome once it is acknowledged. `onHandlerDone`: see {@link run}. */
  execute(job: Job<unknown>, onHandlerDone?: () => void): Promise<ExecutionOutcome> {
    return new Promise((resolve, reject) =>
      this.run(job, {
        handlerDone: () => onHandlerDone?.(),
        finished: (_job, outcome, error) => (outcome ? resolve(outcome) : reject(error)),
      }),
    );
  }

  /**
   * Runs one attempt, reporting to `listener`: `handlerDone` once the handler
   * has finished (or was aborted), before the acknowledgement is written (a
   * queue runner frees the slot there, so acknowledgements, batched by the
   * store, overlap with the next jobs instead of holding a slot for a round
   * trip), then `finished` once it is acknowledged.
   */
  run(job: Job<unknown>, listener: AttemptListener): void {
    const gate = this.deps.breakers;
    if (gate !== undefined && gate.active) {
      const breaker = gate.breakerOf(job);
      if (breaker !== null) {
        const verdict = gate.admit(breaker, job);
        if (verdict === 'run') return this.launch(job, listener, breaker);
        void this.gated(job, listener, breaker, verdict);
        return;
      }
    }
    this.launch(job, listener, null);
  }

  /**
   * A job due lately whose name has no handler on this node (a node of an
   * earlier build, during a rolling deploy that added it): handed back
   * without spending its attempt, due again in {@link UNHANDLED_RETRY}, for a
   * node that has the handler. Told once a name.
   */
  private async unhandled(job: Job<unknown>, listener: AttemptListener): Promise<void> {
    const { store, clock } = this.deps;
    const until = new Date(clock.now() + UNHANDLED_RETRY);
    await store
      .unclaim([{ id: job.id, attempt: job.attempt }], { runAt: until })
      .catch((error: unknown) => this.logger.error(`${label(job)} (${job.id}): handing it back failed: ${describe(error)}`));
    if (!this.unhandledNames.has(job.name)) {
      this.unhandledNames.add(job.name);
      this.logger.warn(
        `no handler is registered under "${job.name}" on this node: its jobs are handed back for a node that has one ` +
          `(due again ${UNHANDLED_RETRY / 1000} s later, no attempt spent; ${UNHANDLED_GRACE / 60_000} min after they are due, they fail here)`,
      );
    }
    listener.handlerDone(job);
    listener.finished(job, { job, outcome: 'held', duration: 0 });
  }

  /**
   * A job whose breaker is not closed: it runs (as a probe when half-open)
   * or is handed back without spending its attempt. A store that cannot
   * answer lets it run: its acknowledgement meets the same outage.
   */
  private async gated(job: Job<unknown>, listener: AttemptListener, breaker: string, verdict: Promise<'run' | 'probe' | Date>): Promise<void> {
    const gate = this.deps.breakers!;
    const answer = await verdict.catch((error: unknown) => {
      this.logger.error(`circuit breaker ${breaker}: ${describe(error)}; job ${job.id} runs`);
      return 'run' as const;
    });
    if (!(answer instanceof Date)) return this.launch(job, listener, breaker);
    await gate
      .hold(breaker, job, answer)
      .catch((error: unknown) => this.logger.error(`circuit breaker ${breaker}: handing job ${job.id} back failed: ${describe(error)}`));
    listener.handlerDone(job);
    listener.finished(job, { job, outcome: 'held', duration: 0 });
  }

  private launch(job: Job<unknown>, listener: AttemptListener, breaker: string | null): void {
    const { clock, events, registry, running } = this.deps;
    const definition = registry.findDefinition(job.name);
    if (!definition && clock.now() - Math.max(job.insertedAt.getTime(), job.runAt.getTime()) < UNHANDLED_GRACE) {
      void this.unhandled(job, listener);
      return;
    }
    const attempt = new Attempt(job, this.ports, listener);
    attempt.breaker = breaker;
    attempt.started = clock.now();
    running.add(attempt);

    const metrics = this.deps.metrics;
    // Due longer than the grace and still no handler here: retry with backoff
    // (then dead-letter) rather than discard the job. An earlier start's
    // `@reboot` job: discarded unrun (the error says so).
    const refused = !definition
      ? new Error(`no handler is registered under "${job.name}" on this node`)
      : job.pinnedNode !== null
        ? (this.deps.superseded?.(job) ?? null)
        : null;
    if (refused !== null) {
      if (metrics) attempt.records = metrics.started(job, attempt.started);
      events.emit('job:start', { job, duration: 0, outcome: 'started' });
      attempt.chainDone({ status: 'failed', error: refused });
      return;
    }
    if (job.timeout !== null) this.timeouts.add(attempt, attempt.started, job.timeout);
    if (metrics) attempt.records = metrics.started(job, attempt.started);
    if (events.has('job:start')) events.emit('job:start', { job, duration: 0, outcome: 'started' });
    const traced = startAttemptSpan(job);
    attempt.span = traced.span;
    attempt.trace = traced.ctx;
    attempt.definition = definition!;
    // Handlers start in a microtask, never inside the caller's stack (a
    // runner launching a buffer of jobs would otherwise recurse through
    // them): all that are launched together start in one.
    if (this.starting.push(attempt) === 1) void RESOLVED.then(this.startAll);
  }

  private readonly startAll = (): void => {
    const batch = this.starting;
    this.starting = [];
    // `context.with` allocates its rest arguments twice a call: skipped when
    // the attempt's context is the active one already (no tracing: the root).
    const active = context.active();
    for (const attempt of batch) {
      if (attempt.trace === active) this.start(attempt);
      else context.with(attempt.trace!, this.start, this, attempt);
    }
  };

  private start(attempt: Attempt): void {
    // Aborted (cancelled, shut down) between its launch and this microtask.
    if (attempt.isSettled) return;
    attempt.handlerStarted();
    const definition = attempt.definition!;
    const ctx = new AttemptContext(attempt);
    const middleware = definition.middleware;
    if (middleware === undefined || middleware.length === 0) return invoke(definition, ctx, attempt);
    void runMiddlewareChain(
      middleware,
      ctx,
      () => Promise.resolve(definition.run(ctx)),
      () => this.deps.clock.now(),
      (error) => this.logger.error(`${label(attempt.job)}: middleware onComplete threw: ${describe(error)}`),
      (error) => this.settler.nextAfter(attempt.job, attempt.reason, error),
    ).then((result) => attempt.chainDone(result));
  }

  /**
   * A timeout aborts the signal; a handler that does not return soon after
   * is named in the log, since its slot stays taken (and its retry waits)
   * until it does.
   */
  private timedOut(attempt: Attempt): void {
    attempt.retriesAfterTimeout = this.settler.retriesAfterTimeout(attempt.job);
    attempt.abort('timeout');
    if (!attempt.abortIgnored) return;
    const { clock } = this.deps;
    const warning = clock.setTimeout(() => {
      attempt.onSlotFreed = null;
      const job = attempt.job;
      this.logger.warn(
        `${attempt.definition?.source ?? label(job)} ignores ctx.signal: job ${job.id} is still running ${IGNORED_SIGNAL_AFTER / 1000} s after its timeout; ` +
          (attempt.retriesAfterTimeout
            ? `it keeps its slot, and attempt ${job.attempt + 1} waits, until the handler returns`
            : 'it keeps its slot until the handler returns'),
      );
    }, IGNORED_SIGNAL_AFTER);
    attempt.onSlotFreed = () => clock.clearTimeout(warning);
  }

  /** A heartbeat of one attempt; false when it no longer owns its job. */
  private readonly beat = async (job: Job<unknown>): Promise<boolean> => {
    const { store, clock, storeTimer } = this.deps;
    const lost = await timeStore(storeTimer, 'heartbeat', () => store.heartbeat([{ id: job.id, attempt: job.attempt }], new Date(clock.now())));
    return lost.length === 0;
  };

  /** The attempt's run ended: free its slot, then acknowledge it (after its last progress, if a write of it is pending). */
  private readonly onSettled = (attempt: Attempt, settled: Settled): void => {
    this.timeouts.remove(attempt);
    const progress = attempt.progress;
    if (progress !== null) {
      attempt.progress = null;
      void progress.flush().then(() => this.onSettled(attempt, settled));
      return;
    }
    if (settled.kind === 'chain' && settled.result.status === 'completed') {
      const { ignored } = settled.result;
      if (ignored) {
        const job = attempt.job;
        this.logger.warn(`${label(job)} (${job.id}) attempt ${job.attempt} failed, ignored by middleware (${ignored.reason}): ${describe(ignored.error)}`);
      }
      this.completions.complete(attempt, settled.result.result);
      return;
    }
    const stalls = this.deps.stalls;
    if (stalls && settled.kind === 'chain') {
      const now = this.deps.clock.now();
      if (now > stalls.overdueAt) stalls.returned(attempt.job, attempt.definition?.source, now);
    }
    this.settler
      .settle(attempt.job, attempt.started, settled, (result) => this.completions.completed(attempt, result, false))
      .then(
        (outcome) => this.finish(attempt, outcome),
        (error: unknown) => this.finish(attempt, null, error),
      );
  };

  /** The attempt is over; one that tells its breaker something new is over once the breaker knows (its slot is free already). */
  private finish(attempt: Attempt, outcome: ExecutionOutcome | null, error?: unknown): void {
    const told = attempt.breaker === null ? undefined : this.settleBreaker(attempt.breaker, attempt.job, outcome);
    if (told === undefined) return this.finished(attempt, outcome, error);
    void told.then(() => this.finished(attempt, outcome, error));
  }

  private finished(attempt: Attempt, outcome: ExecutionOutcome | null, error?: unknown): void {
    if (attempt.span && outcome) {
      endAttemptSpan(attempt.span, outcome.outcome, outcome.outcome === 'completed' || outcome.outcome === 'halted' ? undefined : outcome.error);
    }
    this.deps.running.remove(attempt.job.id, attempt);
    attempt.acknowledged();
    attempt.listener.finished(attempt.job, outcome, error);
  }

  /** Tells the job's breaker how the attempt ended: failures that trip circuits count, hand-backs and aborts do not. */
  private settleBreaker(breaker: string, job: Job<unknown>, outcome: ExecutionOutcome | null): Promise<void> | undefined {
    const ended = outcome?.outcome;
    if (ended === 'completed') return this.deps.breakers!.settle(breaker, job, 'success');
    const failed = (ended === 'retry' || ended === 'dead' || ended === 'discarded') && tripsCircuit(outcome!.error, outcome!.errorClass);
    return this.deps.breakers!.settle(breaker, job, failed ? 'failure' : 'abandon', outcome?.error);
  }
}

/** Runs a handler without middleware: a returned value completes the attempt, a throw or rejection fails it. */
function invoke(definition: JobDefinition, ctx: JobContext<unknown>, attempt: Attempt): void {
  let value: unknown;
  try {
    value = definition.run(ctx);
  } catch (error) {
    return attempt.chainDone({ status: 'failed', error });
  }
  if (value === undefined) return attempt.chainDone(COMPLETED_VOID);
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || typeof (value as PromiseLike<unknown>).then !== 'function') {
    return attempt.chainDone({ status: 'completed', result: value });
  }
  Promise.resolve(value).then(
    (result) => attempt.chainDone(result === undefined ? COMPLETED_VOID : { status: 'completed', result }),
    (error: unknown) => attempt.chainDone({ status: 'failed', error }),
  );
}
