import { parseDuration, type Duration } from './common/duration.js';

/**
 * Base class of every error the scheduler throws.
 * @publicApi
 */
export class SchedulerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Invalid configuration found at bootstrap or in module options. The message
 * names the `ClassName.method` (or option path) and the offending option.
 * @publicApi
 */
export class SchedulerConfigError extends SchedulerError {
  constructor(
    /** Where the bad option was found, e.g. `ReportJobs.daily` or `SchedulerModule`. */
    readonly source: string,
    /** The option at fault, e.g. `cron`. */
    readonly option: string,
    detail: string,
  ) {
    super(`${source}: invalid option "${option}": ${detail}`);
  }
}

/**
 * The `store` option gave a store without the peer and notifier that go with
 * it. Leadership and notifications must reach exactly the nodes that share
 * the store; a store alone would make every node leader and keep cancels on
 * the node that sent them. Thrown at bootstrap.
 * @publicApi
 */
export class IncompleteStoreError extends SchedulerConfigError {
  constructor(
    /** What the store came without: `peer`, `notifier` or both. */
    readonly missing: readonly ('peer' | 'notifier')[],
  ) {
    super(
      'SchedulerModule',
      'store',
      `a custom store must come with its ${missing.join(' and ')}: pass { store, peer, notifier }, or a function (context) => ({ store, peer, notifier }); ` +
        "for a store that only this process uses, say so with { store, peer: 'local', notifier: 'local' }",
    );
  }
}

/**
 * An optional peer dependency a feature needs is not installed (e.g. `pg` for
 * the PostgreSQL store). The message says what to install.
 * @publicApi
 */
export class MissingPackageError extends SchedulerError {
  constructor(
    /** The npm package to install. */
    readonly packageName: string,
    /** What needs it, e.g. `the PostgreSQL store`. */
    readonly feature: string,
    options?: { cause?: unknown },
  ) {
    super(`nestjs-scheduler: ${feature} needs the '${packageName}' package: npm install ${packageName}`, options);
  }
}

/**
 * A runtime call got an argument it cannot accept. Nothing was changed.
 * @publicApi
 */
export class InvalidArgumentError extends SchedulerError {
  constructor(
    /** The argument or option at fault. */
    readonly argument: string,
    /** What is wrong with it (the message without the argument's name). */
    readonly detail: string,
  ) {
    super(`invalid argument "${argument}": ${detail}`);
  }
}

/**
 * No registered job, schedule or stored job has the given name or id.
 * @publicApi
 */
export class JobNotFoundError extends SchedulerError {
  constructor(
    readonly key: string,
    what = 'job',
  ) {
    super(`${what} "${key}" not found`);
  }
}

/**
 * A job is not in a state the call acts on (e.g. deleting a running job).
 * Nothing was changed.
 * @publicApi
 */
export class JobStateError extends SchedulerError {
  constructor(
    readonly id: string,
    /** The state it is in. */
    readonly state: string,
    detail: string,
  ) {
    super(`job "${id}" is ${state}: ${detail}`);
  }
}

/**
 * The queue is not configured on this node.
 * @publicApi
 */
export class QueueNotFoundError extends SchedulerError {
  constructor(readonly queue: string) {
    super(`queue "${queue}" is not configured`);
  }
}

/**
 * A schedule with this name already exists.
 * @publicApi
 */
export class DuplicateJobError extends SchedulerError {
  constructor(readonly key: string) {
    super(`a job or schedule named "${key}" already exists`);
  }
}

/**
 * A JSON payload (a job's `args` or `meta`, a handler's result) is larger
 * than the store accepts (`store.maxPayloadBytes`). Nothing was stored.
 * @publicApi
 */
export class PayloadTooLargeError extends SchedulerError {
  constructor(
    /** Its size: bytes of UTF-8 JSON text. */
    readonly bytes: number,
    /** The store's limit in bytes. */
    readonly limit: number,
    /** What was too large, e.g. `args`, `meta` or `result`. @default 'payload' */
    readonly field = 'payload',
  ) {
    super(`job ${field} is ${bytes} bytes of JSON; the limit is ${limit} (store.maxPayloadBytes)`);
  }
}

/**
 * A handler's result could not be stored (over `store.maxPayloadBytes`, or
 * refused by the database). The attempt fails with this error and follows the
 * job's retry policy (retried, then dead-lettered): a job is never left
 * running, to be rescued and run again, because of what its handler returned.
 * The reason is the `cause`.
 * @publicApi
 */
export class UnstorableResultError extends SchedulerError {
  constructor(
    /** The job whose result was refused. */
    readonly jobId: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`job ${jobId}: the handler's result cannot be stored: ${detail}`, options);
  }
}

/**
 * An acknowledgement came from an attempt that no longer owns the job (it was
 * rescued, timed out or cancelled). The store changed nothing.
 * @publicApi
 */
export class StaleAttemptError extends SchedulerError {
  constructor(
    readonly jobId: string,
    readonly attempt: number,
  ) {
    super(`job ${jobId}: attempt ${attempt} no longer owns the job; acknowledgement ignored`);
  }
}

/**
 * Thrown by a handler to ask for another attempt, optionally after `delay`
 * (a Duration; default: the job's backoff). It counts as an attempt.
 * @publicApi
 */
export class RetryJobError extends SchedulerError {
  /** Milliseconds to wait before the next attempt; `undefined` uses the backoff. */
  readonly delay?: number;
  constructor(reason = 'retry requested', options: { delay?: Duration; cause?: unknown } = {}) {
    super(reason, { cause: options.cause });
    this.delay = options.delay === undefined ? undefined : parseDuration(options.delay);
  }
}

/**
 * Thrown by a handler to stop the job for good: no retry, state `discarded`.
 * @publicApi
 */
export class DiscardJobError extends SchedulerError {
  constructor(reason = 'discarded') {
    super(reason);
  }
}

/**
 * A run was started under another version of its workflow's definition; after
 * a deploy that changed the DAG, in-flight runs fail with this at their next
 * step rather than skip or repeat a step silently.
 * @publicApi
 */
export class WorkflowVersionMismatchError extends SchedulerError {
  constructor(
    readonly workflow: string,
    readonly runVersion: string,
    readonly currentVersion: string,
  ) {
    super(`workflow "${workflow}" changed since this run started (run version ${runVersion}, deployed ${currentVersion})`);
  }
}

/**
 * Why a running job's signal was aborted.
 * @publicApi
 */
export type AbortReason = 'timeout' | 'cancel' | 'shutdown' | 'lease-lost' | 'preempted';

/**
 * The reason carried by `ctx.signal` when the scheduler aborts a job.
 * @publicApi
 */
export class JobAbortedError extends SchedulerError {
  constructor(readonly reason: AbortReason) {
    super(`job aborted: ${reason}`);
  }
}

/**
 * The call would hand this node work it can no longer keep: it is shutting
 * down (`app.close()` began) and its store lives in this process (the memory
 * store), so a job enqueued now would be lost. A store shared by other nodes
 * still takes the job; they run it.
 * @publicApi
 */
export class ShuttingDownError extends SchedulerError {
  constructor(
    /** The call refused, e.g. `enqueue`. */
    readonly operation: string,
  ) {
    super(`${operation} refused: this node is shutting down and its store (memory) would lose the job`);
  }
}

/**
 * A call that only the cluster's leader may make reached a follower. Call it
 * on the leader (`scheduler.isLeader()`, `scheduler.leaderNode()`), or leave
 * it to the leader's own schedule.
 * @publicApi
 */
export class NotLeaderError extends SchedulerError {
  constructor(
    /** The call refused, e.g. `lifeline.checkNow`. */
    readonly operation: string,
    /** The leader's node name, when known. */
    readonly leader: string | null = null,
  ) {
    super(`${operation} runs only on the leader; this node is a follower${leader ? ` (the leader is ${leader})` : ''}`);
  }
}

/**
 * The job store cannot be reached (yet): a shared store (PostgreSQL, Redis)
 * is still waiting for its server at start, its connection dropped, the
 * store was closed, or its server refused the write for a condition of its
 * own (read only after a failover, out of memory or disk, loading, a
 * privilege revoked, a statement cancelled behind a lock; its reply is the `cause`).
 * Nothing was changed; the call may be repeated later.
 * @publicApi
 */
export class StoreUnavailableError extends SchedulerError {
  constructor(detail = 'the store is not reachable yet', options?: { cause?: unknown }) {
    super(`job store unavailable: ${detail}`, options);
  }
}
