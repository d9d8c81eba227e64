import { parseDuration } from './common/duration.js';
import { InvalidArgumentError, JobNotFoundError } from './scheduler.errors.js';
import type { DeadLetterPorts } from './composition/scheduler.ports.js';
import { toDeadLetter, type DeadLetter } from './dead-letters/dead-letter.entry.js';
import type { DeadLetterFilter, DeadLetterPruneOptions, DeadLetterRetryFilter, DeadLetterStats } from './scheduler.types.js';
import type { DeadLetterClass, DeadLetterQuery } from './store/dead-letter-store.js';
import type { Job } from './store/job.types.js';
import { searchable } from './store/search-conditions.js';
import { checkJobId } from './store/job-input.validation.js';
import { shown } from './common/shown.js';

const CLASSES: ReadonlySet<string> = new Set<DeadLetterClass>(['retryable', 'transient', 'degraded', 'terminal', 'unclassified']);
// `prune` deletes in rounds of this many, so one call never holds a huge statement open.
const PRUNE_ROUND = 10_000;

/**
 * Dead letters: jobs whose every attempt failed. They stay in the store
 * (state `dead`, with each attempt's error) until retried, deleted or pruned
 * (`deadLetters.maxAge`, default 30 days, and `deadLetters.maxEntries`,
 * default 10,000). Filters and counts are the store's: no call reads every job.
 * @publicApi
 */
export class DeadLetters {
  /** @internal */
  constructor(private readonly scheduler: () => DeadLetterPorts) {}

  /** Dead letters, newest death first. @default limit 100, offset 0 */
  async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const query = checkQuery(filter);
    const limit = count('limit', filter.limit, 100, 1, 10_000);
    const offset = count('offset', filter.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    return (await this.scheduler().store.listDead(query, limit, offset)).map(toDeadLetter);
  }

  /**
   * One dead letter.
   * @throws InvalidArgumentError for an id that is not digits.
   * @throws JobNotFoundError when there is no dead job with this id.
   */
  async get(id: string): Promise<DeadLetter> {
    const job = await this.scheduler().store.get(checkJobId(id));
    if (!job || job.state !== 'dead') throw new JobNotFoundError(id, 'dead letter');
    return toDeadLetter(job);
  }

  /** Counts by queue, by name and by error class (`unclassified` for errors without one), kept by the store. */
  async stats(): Promise<DeadLetterStats> {
    return this.scheduler().store.deadStats();
  }

  /**
   * Puts a dead job back in its queue, due now, with a fresh set of attempts.
   * @throws JobNotFoundError when it is not a dead letter.
   * @throws DuplicateJobError when another active job holds its unique key.
   */
  async retry(id: string): Promise<Job> {
    const s = this.scheduler();
    await this.get(id);
    const job = await s.store.resurrect(id, new Date(s.clock.now()));
    if (!job) throw new JobNotFoundError(id, 'dead letter');
    s.wake(job.queue);
    s.events.emit('deadLetter:retry', { id: job.id, name: job.name, queue: job.queue });
    s.events.emit('job:enqueue', { job, source: 'retry' });
    return job;
  }

  /**
   * Retries the dead letters matching the filter, oldest death first, at
   * most `limit`, in one store operation; resolves to how many. One whose
   * unique key another active job holds stays dead and is not counted.
   */
  async retryAll(filter: DeadLetterRetryFilter = {}): Promise<number> {
    const query = checkQuery(filter);
    const limit = count('limit', filter.limit, 10_000, 1, Number.MAX_SAFE_INTEGER);
    const s = this.scheduler();
    const jobs = await s.store.resurrectDead(query, limit, new Date(s.clock.now()));
    for (const queue of new Set(jobs.map((job) => job.queue))) s.wake(queue);
    for (const job of jobs) {
      s.events.emit('deadLetter:retry', { id: job.id, name: job.name, queue: job.queue });
      s.events.emit('job:enqueue', { job, source: 'retry' });
    }
    return jobs.length;
  }

  /** Deletes one dead letter; rejects with `JobNotFoundError` when there is none with this id. */
  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.scheduler().store.delete([id]);
  }

  /**
   * Deletes dead letters that died before `olderThan` (a duration before now,
   * or a Date) and are not among the newest `keep`; resolves to how many.
   * @throws InvalidArgumentError when neither is given, or one is invalid.
   */
  async prune(options: DeadLetterPruneOptions): Promise<number> {
    const s = this.scheduler();
    const before = olderThan(options, s.clock.now());
    const keep = count('keep', options?.keep, 0, 0, Number.MAX_SAFE_INTEGER);
    if (before === null && options?.keep === undefined) throw new InvalidArgumentError('olderThan', 'give olderThan, keep, or both');
    let total = 0;
    for (;;) {
      const n = await s.store.pruneDead({ before, keep, limit: PRUNE_ROUND });
      total += n;
      if (n < PRUNE_ROUND) break;
    }
    if (total > 0) s.events.emit('deadLetter:prune', { count: total, by: 'api' });
    return total;
  }
}

function checkQuery(filter: DeadLetterQuery): DeadLetterQuery {
  if (typeof filter !== 'object' || filter === null) throw new InvalidArgumentError('filter', 'must be an object');
  const query: DeadLetterQuery = {};
  for (const key of ['queue', 'name'] as const) {
    const value = filter[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new InvalidArgumentError(key, 'must be a string');
    searchable(key, value);
    query[key] = value;
  }
  if (filter.errorClass !== undefined) {
    if (!CLASSES.has(filter.errorClass)) throw new InvalidArgumentError('errorClass', `must be one of ${[...CLASSES].join(', ')}`);
    query.errorClass = filter.errorClass;
  }
  return query;
}

function count(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(name, `must be an integer from ${min} to ${max}`);
  return value;
}

/** The death time before which dead letters may go, or `null` for any. */
function olderThan(options: DeadLetterPruneOptions, now: number): Date | null {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object');
  if (options.before !== undefined && options.olderThan !== undefined) throw new InvalidArgumentError('before', 'is the older name of olderThan: give one');
  const value = options.olderThan ?? options.before;
  if (value === undefined) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new InvalidArgumentError(options.before ? 'before' : 'olderThan', 'must be a valid Date');
    return value;
  }
  let before: Date;
  try {
    before = new Date(now - parseDuration(value));
  } catch (error) {
    throw new InvalidArgumentError('olderThan', (error as Error).message);
  }
  // A duration reaching past what a Date holds (about 273,000 years) would reach the stores as an invalid date.
  if (Number.isNaN(before.getTime())) throw new InvalidArgumentError('olderThan', `is too long, got ${shown(value)}`);
  return before;
}
