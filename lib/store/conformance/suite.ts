import type { ConformanceTestApi } from './conformance-api.js';
import type { AttemptRef, JobStore } from '../job-store.js';
import type { Job, JobAttemptError, JobState, NewJob } from '../job.types.js';

/**
 * A store's input for one plain job, due at `runAt`, with `overrides`.
 * @publicApi
 */
export function newJobInput(runAt: Date, overrides: Partial<NewJob> = {}): NewJob {
  return { name: 'work', queue: 'default', args: {}, priority: 5, maxAttempts: 3, timeout: null, runAt, ...overrides };
}

/**
 * Builds a fresh, empty store for one test, and what removes it afterwards.
 * @publicApi
 */
export type ConformanceStoreFactory = (options?: { maxPayloadBytes?: number }) => Promise<{
  store: JobStore;
  cleanup(): Promise<void>;
  /**
   * For a store whose rate-limit buckets refill by its own clock (not the
   * claims' `now`), e.g. a database's: makes `ms` milliseconds pass for them
   * (PostgreSQL: moves the buckets' last refill back). Omitted by a store
   * that refills from the claims' `now`.
   */
  ageRateLimits?(ms: number): Promise<void>;
}>;

/** What a claim in the suite may set; the rest defaults to the default queue, 10 jobs, `node-a`, at `BASE`. */
type ClaimInput = { queue?: string; limit?: number; node?: string; now?: Date; ids?: string[]; maxPriority?: number; start?: number };

/**
 * What every topic of the suite shares: the runner's API, the store of the
 * running test (a fresh one per test) and the helpers over it.
 * @internal
 */
export interface ConformanceSuite extends ConformanceTestApi {
  /** The store of the running test. */
  readonly store: JobStore;
  /** Lets `ms` pass for the store's rate-limit buckets: resolves to `now` plus `ms`, the `now` of the claims after it. */
  ageRateLimits(now: Date, ms: number): Promise<Date>;
  makeStore: ConformanceStoreFactory;
  /** The time every test starts from. */
  BASE: Date;
  /** `BASE` plus `ms` milliseconds. */
  at(ms: number): Date;
  /** A date in epoch milliseconds (for comparisons), or `null`. */
  ms(date: Date | null | undefined): number | null;
  SEC: number;
  newJob(overrides?: Partial<NewJob>): NewJob;
  /** Inserts one job (it must be inserted); resolves to it. */
  insert(overrides?: Partial<NewJob>): Promise<Job>;
  claim(options?: ClaimInput): Promise<Job[]>;
  /** Inserts a job and claims it; returns the running job. */
  running(overrides?: Partial<NewJob>, now?: Date): Promise<Job>;
  ref(job: Job): AttemptRef;
  attemptError(attempt: number, overrides?: Partial<JobAttemptError>): JobAttemptError;
  state(id: string): Promise<JobState | undefined>;
  ids(jobs: readonly Job[]): string[];
}

/**
 * The suite's shared part. Registers the hooks that give each test a fresh
 * store (`init` before, `close` and `cleanup` after), so it is called inside
 * the suite's `describe`.
 * @internal
 */
export function conformanceSuite(test: ConformanceTestApi, makeStore: ConformanceStoreFactory): ConformanceSuite {
  const { expect, beforeEach, afterEach } = test;
  const BASE = new Date('2026-01-01T00:00:00Z');
  const at = (ms: number): Date => new Date(BASE.getTime() + ms);
  const SEC = 1_000;
  let store: JobStore | undefined;
  let cleanup: () => Promise<void>;
  let age: ((ms: number) => Promise<void>) | undefined;
  const current = (): JobStore => {
    if (!store) throw new Error('the conformance suite reads its store only inside a test');
    return store;
  };

  beforeEach(async () => {
    ({ store, cleanup, ageRateLimits: age } = await makeStore());
    await store.init();
  });

  afterEach(async () => {
    await current().close();
    await cleanup();
  });

  const newJob = (overrides: Partial<NewJob> = {}): NewJob => newJobInput(BASE, overrides);

  const insert = async (overrides: Partial<NewJob> = {}): Promise<Job> => {
    const [result] = await current().insert([newJob(overrides)]);
    expect(result!.inserted).toBe(true);
    return result!.job;
  };

  const claim = (options: ClaimInput = {}) =>
    current().claim({
      queue: options.queue ?? 'default',
      limit: options.limit ?? 10,
      node: options.node ?? 'node-a',
      now: options.now ?? BASE,
      ...(options.ids ? { ids: options.ids } : {}),
      ...(options.maxPriority !== undefined ? { maxPriority: options.maxPriority } : {}),
      ...(options.start !== undefined ? { start: options.start } : {}),
    });

  const running = async (overrides: Partial<NewJob> = {}, now = BASE): Promise<Job> => {
    const job = await insert(overrides);
    const [claimed] = await claim({ queue: job.queue, ids: [job.id], now, node: overrides.pinnedNode ?? 'node-a' });
    expect(claimed?.id).toBe(job.id);
    return claimed!;
  };

  const ref = (job: Job): AttemptRef => ({ id: job.id, attempt: job.attempt });

  const attemptError = (attempt: number, overrides: Partial<JobAttemptError> = {}): JobAttemptError => ({
    attempt,
    at: at(attempt * SEC),
    name: 'Error',
    message: `failure ${attempt}`,
    kind: 'error',
    ...overrides,
  });

  const state = async (id: string): Promise<JobState | undefined> => (await current().get(id))?.state;

  const ids = (jobs: readonly Job[]): string[] => jobs.map((job) => job.id);

  return {
    describe: test.describe,
    it: test.it,
    expect,
    beforeEach,
    afterEach,
    get store() {
      return current();
    },
    makeStore,
    ageRateLimits: async (now, ms) => {
      await age?.(ms);
      return new Date(now.getTime() + ms);
    },
    BASE,
    at,
    ms: (date) => (date ? date.getTime() : null),
    SEC,
    newJob,
    insert,
    claim,
    running,
    ref,
    attemptError,
    state,
    ids,
  };
}
