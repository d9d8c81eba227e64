import type { ErrorClass, Job } from './job.types.js';

/**
 * The class a dead letter is counted and filtered under: the class of its
 * last error, or `unclassified` when that error has none (stored before
 * classification, or a failure no class was given to: a rescue, a shutdown).
 * @publicApi
 */
export type DeadLetterClass = ErrorClass | 'unclassified';

/**
 * Which dead letters a store call takes; absent fields match every dead letter.
 * @publicApi
 */
export interface DeadLetterQuery {
  queue?: string;
  name?: string;
  errorClass?: DeadLetterClass;
}

/**
 * Dead letters counted by the store, never by reading each job.
 * @publicApi
 */
export interface DeadLetterCounts {
  total: number;
  byQueue: Record<string, number>;
  byName: Record<string, number>;
  /** Keys are {@link DeadLetterClass} values. */
  byErrorClass: Record<string, number>;
}

/**
 * What {@link DeadLetterStore.pruneDead} deletes: dead letters that died
 * before `before` (`null`: whatever their age) and are not among the
 * `keep` newest (0: none spared), at most `limit` of them, oldest death first.
 * @publicApi
 */
export interface DeadLetterPrune {
  before: Date | null;
  keep: number;
  limit: number;
}

/**
 * A dead letter handed to a node to run `onDeadLetter` on, and how many
 * times it was handed out (this one included).
 * @publicApi
 */
export interface DeadLetterAlert {
  job: Job;
  tries: number;
}

/**
 * The dead-letter part of the store contract. A dead letter is a job in
 * state `dead`; its death time is its `finishedAt`. Order: newest death
 * first for lists, oldest first for bulk changes (ties by insertion order).
 * @publicApi
 */
export interface DeadLetterStore {
  /** Dead letters matching `query`, newest death first, `offset` skipped, at most `limit`. */
  listDead(query: DeadLetterQuery, limit: number, offset: number): Promise<Job[]>;
  /** Counts of every dead letter by queue, by name and by {@link DeadLetterClass}. */
  deadStats(): Promise<DeadLetterCounts>;
  /**
   * Back to `available` at `now` with fresh attempts (as `resurrect`), up to
   * `limit` dead letters matching `query`, oldest death first, in one
   * operation. One whose unique key another active job holds stays dead and
   * is not counted. Resolves to the jobs it moved, in no set order.
   */
  resurrectDead(query: DeadLetterQuery, limit: number, now: Date): Promise<Job[]>;
  /** Deletes dead letters as {@link DeadLetterPrune} says; resolves to how many. */
  pruneDead(prune: DeadLetterPrune): Promise<number>;
  /**
   * Hands out up to `limit` dead letters whose alert is due (every job that
   * dies has one, due at its death) and makes each due again `leaseMs`
   * later, so that a node that dies while handling one does not lose it.
   * Across processes sharing the store, one dead letter is handed to one
   * caller at a time.
   */
  takeDeadAlerts(now: Date, leaseMs: number, limit: number): Promise<DeadLetterAlert[]>;
  /**
   * Ends the alert of the death of job `id` at `diedAt` (`retryAt` null), or
   * makes it due again at `retryAt`. A later death of the same job (after a
   * retry) has its own alert, which this leaves alone.
   */
  settleDeadAlert(id: string, diedAt: Date, retryAt: Date | null): Promise<void>;
}
