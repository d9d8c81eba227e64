import type { Job, JobAttemptError, NewJob, QueueState, ScheduleState, StoredSchedule } from '../../../lib/store/job.types.js';
import type { StepRun, WorkflowRun } from '../../../lib/store/workflow-run.types.js';
import { pendingStep } from '../../../lib/store/workflow-runs.js';

// What a deployment of an earlier release holds, in the store's own terms
// (old-layout.populate.ts writes it as raw rows), and what it must still mean
// after an upgrade. Upgrade specs derive their checks from these lists, so a
// row added here is checked by every one of them. Nothing here names a table
// or a column: a migration that moves rows to a new layout (004…) is checked
// against the same expectations, through the store's API.

/** The instant the upgraded store is asked about (the old rows are placed around it). */
export const NOW = new Date('2026-03-01T12:00:00.000Z');
const SEC = 1_000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** `NOW` moved by `ms`. */
export const at = (ms: number): Date => new Date(NOW.getTime() + ms);

/** A job row of the old deployment: a label to find it by, and the fields that differ from a plain queued job. */
export type OldJob = { label: string } & Partial<Omit<Job, 'id' | 'progress' | 'preemptible'>>;

/** A workflow run of the old deployment; a step's `jobId` holds the label of an {@link OldJob}. */
export type OldRun = { label: string } & Partial<Omit<WorkflowRun, 'id'>>;

const JOB_DEFAULTS = {
  name: 'send-email',
  schedule: null,
  queue: 'default',
  args: {},
  state: 'available',
  priority: 5,
  attempt: 0,
  maxAttempts: 3,
  timeout: null,
  misfired: false,
  startedAt: null,
  finishedAt: null,
  heartbeatAt: null,
  node: null,
  fencingToken: 0,
  tickKey: null,
  uniqueKey: null,
  serialKey: null,
  pinnedNode: null,
  tags: [],
  meta: {},
  result: null,
  errors: [],
  trace: null,
  progress: null,
  preemptible: null,
} satisfies Partial<Job>;

function unlabelled<T extends { label: string }>(row: T): Omit<T, 'label'> {
  const copy: Partial<T> = { ...row };
  delete copy.label;
  return copy as Omit<T, 'label'>;
}

/** The job an {@link OldJob} describes, every field filled in (what `get` must answer, but for the id). */
export function fullJob(row: OldJob): Omit<Job, 'id'> {
  const old = unlabelled(row);
  const runAt = old.runAt ?? at(-MIN);
  const scheduledAt = old.scheduledAt ?? runAt;
  return {
    ...JOB_DEFAULTS,
    runAt,
    scheduledAt,
    insertedAt: new Date(scheduledAt.getTime() - SEC),
    ...old,
  };
}

/** The run an {@link OldRun} describes, step job labels replaced by the ids they got. */
export function fullRun(row: OldRun, jobIds: ReadonlyMap<string, string>): Omit<WorkflowRun, 'id'> {
  const old = unlabelled(row);
  const steps = Object.fromEntries(
    Object.entries(old.steps ?? {}).map(([name, step]): [string, StepRun] => [name, { ...step, jobId: step.jobId === null ? null : jobIds.get(step.jobId)! }]),
  );
  const createdAt = old.createdAt ?? at(-DAY);
  return {
    workflow: 'onboard',
    version: 'v1',
    state: 'running',
    context: {},
    seq: 0,
    error: null,
    trace: null,
    runAt: null,
    createdAt,
    updatedAt: createdAt,
    finishedAt: null,
    ...old,
    steps,
  };
}

const failure = (attempt: number, ms: number, kind: string, name = 'Error', message = `attempt ${attempt} failed`): JobAttemptError => ({
  attempt,
  at: at(ms),
  name,
  message,
  kind,
});
/** Claimed by `node` with `token`, started at `startMs` (`null`: claimed ahead, never started), last heartbeat at `beatMs`. */
const claimed = (node: string, token: number, startMs: number | null, beatMs: number): Partial<Job> => ({
  node,
  fencingToken: token,
  startedAt: startMs === null ? null : at(startMs),
  heartbeatAt: at(beatMs),
});
/** Claimed, then finished at `endMs`. */
const ran = (node: string, token: number, startMs: number, endMs: number): Partial<Job> => ({ ...claimed(node, token, startMs, endMs), finishedAt: at(endMs) });

/** Insertion order is id order: ties in claim order fall back to it. */
export const OLD_JOBS: readonly OldJob[] = [
  // History: completed, dead, discarded, cancelled, with results and errors.
  {
    label: 'done-old',
    name: 'report',
    schedule: 'nightly',
    tickKey: 'nightly:2026-02-19T00:00:00.000Z',
    state: 'completed',
    attempt: 1,
    result: { rows: 3 },
    ...ran('node-gone', 3, -10 * DAY, -10 * DAY + SEC),
  },
  {
    label: 'done-array',
    queue: 'mail',
    state: 'completed',
    attempt: 2,
    result: [1, 'two', { three: null }],
    errors: [failure(1, -30 * DAY, 'timeout', 'TimeoutError')],
    ...ran('node-gone', 1, -30 * DAY, -30 * DAY + MIN),
  },
  { label: 'cancelled', state: 'cancelled', finishedAt: at(-20 * DAY), errors: [failure(0, -20 * DAY, 'cancel', 'CancelledError', 'no longer needed')] },
  {
    label: 'dead',
    name: 'charge',
    uniqueKey: 'charge:9',
    serialKey: 'acct:3',
    state: 'dead',
    attempt: 3,
    errors: [
      failure(1, -2 * DAY - 2 * MIN, 'error'),
      failure(2, -2 * DAY - MIN, 'error'),
      { ...failure(3, -2 * DAY, 'error', 'TypeError', 'card ✗ declined'), stack: 'TypeError: card\n    at charge (charge.job.ts:12:3)' },
    ],
    ...ran('node-gone', 7, -2 * DAY - SEC, -2 * DAY),
  },
  {
    label: 'discarded',
    state: 'discarded',
    attempt: 1,
    errors: [failure(1, -3 * DAY, 'halt', 'DiscardJobError', 'bad input')],
    ...ran('node-gone', 5, -3 * DAY - SEC, -3 * DAY),
  },
  {
    label: 'done-recent',
    queue: 'mail',
    uniqueKey: 'email:b',
    state: 'completed',
    attempt: 1,
    result: 'ok',
    tags: ['mail'],
    ...ran('node-gone', 9, -HOUR - SEC, -HOUR),
  },
  // Running on a node that is gone (started, on its last attempt, claimed ahead, rescued before), and on one still alive.
  {
    label: 'gone-started',
    name: 'import',
    uniqueKey: 'import:7',
    serialKey: 'acct:2',
    state: 'running',
    attempt: 1,
    ...claimed('node-gone', 41, -10 * MIN, -5 * MIN),
  },
  {
    label: 'gone-last',
    state: 'running',
    attempt: 3,
    errors: [failure(1, -20 * MIN, 'error'), failure(2, -15 * MIN, 'timeout', 'TimeoutError')],
    ...claimed('node-gone', 42, -10 * MIN, -5 * MIN),
  },
  { label: 'gone-unstarted', state: 'running', attempt: 1, ...claimed('node-gone', 43, null, -5 * MIN) },
  {
    label: 'gone-again',
    state: 'running',
    attempt: 2,
    maxAttempts: 5,
    errors: [failure(1, -4 * MIN, 'lease-lost', 'RescuedError')],
    ...claimed('node-gone', 44, -3 * MIN, -2 * MIN),
  },
  { label: 'alive', state: 'running', attempt: 1, timeout: 60_000, ...claimed('node-alive', 45, -20 * SEC, -5 * SEC) },
  // Queued: priorities, due and future, pinned, tick, unique and serial keys, a paused schedule's job.
  {
    label: 'high',
    priority: 0,
    uniqueKey: 'email:a',
    args: { to: 'a@example.com', body: 'héllo ✓ 🚀' },
    tags: ['mail', 'vip'],
    meta: { tenant: 't1' },
    trace: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 },
  },
  { label: 'pinned-mine', name: 'warm-cache', priority: 0, runAt: at(-10 * SEC), pinnedNode: 'node-a' },
  { label: 'pinned-other', name: 'warm-cache', priority: 0, runAt: at(-10 * SEC), pinnedNode: 'node-b' },
  { label: 'future', priority: 0, runAt: at(HOUR) },
  {
    label: 'tick',
    name: 'report',
    schedule: 'nightly',
    tickKey: 'nightly:2026-03-01T00:00:00.000Z',
    priority: 3,
    runAt: at(-5 * MIN),
    scheduledAt: at(-12 * HOUR),
    misfired: true,
  },
  { label: 'paused-schedule', name: 'sync', schedule: 'hourly', tickKey: 'hourly:2026-03-01T11:00:00.000Z', priority: 3, runAt: at(-HOUR) },
  { label: 'serial-first', name: 'charge', serialKey: 'acct:1', priority: 4, runAt: at(-50 * SEC) },
  {
    label: 'serial-retry',
    name: 'charge',
    serialKey: 'acct:1',
    priority: 4,
    runAt: at(-40 * SEC),
    attempt: 1,
    errors: [failure(1, -2 * MIN, 'error')],
    node: 'node-gone',
  },
  { label: 'serial-blocked', name: 'import', serialKey: 'acct:2', priority: 4, runAt: at(-45 * SEC) },
  { label: 'mid-early', runAt: at(-2 * MIN), maxAttempts: 1 },
  { label: 'mid-tie-a', runAt: at(-30 * SEC), args: { n: 1 } },
  { label: 'mid-tie-b', runAt: at(-30 * SEC), args: { n: 2 } },
  { label: 'low', priority: 9, runAt: at(-HOUR), args: null, timeout: 30_000 },
  { label: 'mail-queued', queue: 'mail', args: { to: 'c@example.com' } },
];

export const OLD_SCHEDULES: readonly StoredSchedule[] = [
  { name: 'hourly', definition: { name: 'hourly', handler: 'sync', cron: '0 * * * *', zone: 'Europe/Paris', args: { full: false } } },
  { name: 'weekly', definition: { name: 'weekly', handler: 'report', every: '7d', queue: 'reports', maxRetries: 0 } },
];
export const OLD_SCHEDULE_STATES: readonly ScheduleState[] = [
  { name: 'hourly', paused: true, plannedUntil: at(HOUR) },
  { name: 'nightly', paused: false, plannedUntil: at(12 * HOUR) },
];
/** `mail` is paused and has jobs; `reports` has a concurrency and none. */
export const OLD_QUEUE_STATES: readonly QueueState[] = [
  { name: 'mail', paused: true, concurrency: null },
  { name: 'reports', paused: false, concurrency: 2 },
];

const step = (state: StepRun['state'], extra: Partial<StepRun> = {}): StepRun => pendingStep({ state, attempts: state === 'pending' ? 0 : 1, ...extra });
/** Workflow runs exist from migration 2 (`workflow-runs`) on. */
export const OLD_RUNS_SINCE = 2;
export const OLD_RUNS: readonly OldRun[] = [
  {
    label: 'run-done',
    state: 'completed',
    context: { user: 1, sent: true },
    seq: 1,
    steps: {
      welcome: step('completed', { output: { sent: true }, jobId: 'done-old', startedAt: at(-10 * DAY), finishedAt: at(-10 * DAY + SEC), completedSeq: 1 }),
    },
    createdAt: at(-10 * DAY - SEC),
    updatedAt: at(-10 * DAY + SEC),
    finishedAt: at(-10 * DAY + SEC),
  },
  {
    label: 'run-failed',
    workflow: 'checkout',
    state: 'failed',
    error: 'card declined',
    createdAt: at(-2 * DAY - 5 * MIN),
    steps: {
      charge: step('failed', { attempts: 3, error: 'card declined', jobId: 'dead', finishedAt: at(-2 * DAY) }),
      ship: step('skipped', { attempts: 0, skipReason: 'dependency' }),
    },
    finishedAt: at(-2 * DAY),
    updatedAt: at(-2 * DAY),
  },
  {
    label: 'run-running',
    seq: 1,
    context: { user: 2 },
    trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 },
    steps: {
      welcome: step('completed', { completedSeq: 1, startedAt: at(-MIN), finishedAt: at(-30 * SEC) }),
      follow: step('running', { jobId: 'alive', startedAt: at(-20 * SEC) }),
    },
  },
  { label: 'run-scheduled', state: 'scheduled', runAt: at(HOUR), steps: { welcome: step('pending') } },
  { label: 'run-paused', workflow: 'checkout', state: 'paused', steps: { charge: step('pending', { jobId: 'serial-first' }) } },
  {
    label: 'run-cancelled',
    state: 'cancelled',
    error: 'cancelled by user',
    steps: { welcome: step('pending') },
    finishedAt: at(-9 * DAY),
    updatedAt: at(-9 * DAY),
  },
];

/** A plain new job for the key checks. */
const newJob = (keys: Partial<NewJob>): NewJob => ({
  name: 'probe',
  queue: 'default',
  args: {},
  priority: 5,
  maxAttempts: 3,
  timeout: null,
  runAt: NOW,
  ...keys,
});

/** What the old rows must still do once upgraded (the checks that cannot be derived from the rows alone). */
export const OLD_LAYOUT_EXPECT = {
  /** Claims of `default` in this order, each by `node` at `now`, and what each takes (labels, in claim order). */
  claims: [
    { node: 'node-a', now: NOW, labels: ['high', 'pinned-mine', 'tick', 'serial-first', 'mid-early', 'mid-tie-a', 'mid-tie-b', 'low'] },
    // Later still: the future job; the paused schedule's, the other node's and the serial jobs still wait.
    { node: 'node-a', now: at(2 * HOUR), labels: ['future'] },
  ],
  /** `rescue(before, NOW)`: these jobs, and what each becomes (plus the kind of error it gets). */
  rescueBefore: at(-MIN),
  rescued: {
    'gone-started': { state: 'available', runAt: NOW, maxAttempts: 3, kind: 'lease-lost' },
    'gone-last': { state: 'dead', finishedAt: NOW, maxAttempts: 3, kind: 'lease-lost' },
    'gone-unstarted': { state: 'available', runAt: NOW, maxAttempts: 4, kind: 'unstarted' },
    'gone-again': { state: 'available', runAt: at(10 * SEC), maxAttempts: 5, kind: 'lease-lost' },
  } as Record<string, Partial<Job> & { kind: string }>,
  /** New jobs whose keys must collide with an old job (`with`: its label), or not (`with: null`). */
  keys: [
    { job: newJob({ uniqueKey: 'email:a' }), conflict: 'unique', with: 'high' },
    { job: newJob({ uniqueKey: 'import:7' }), conflict: 'unique', with: 'gone-started' },
    { job: newJob({ tickKey: 'nightly:2026-02-19T00:00:00.000Z' }), conflict: 'tick', with: 'done-old' },
    { job: newJob({ tickKey: 'nightly:2026-03-01T00:00:00.000Z' }), conflict: 'tick', with: 'tick' },
    { job: newJob({ serialKey: 'acct:1' }), conflict: 'serial', with: 'serial-first' },
    // Keys only finished jobs hold are free again.
    { job: newJob({ uniqueKey: 'email:b' }), conflict: undefined, with: null },
    { job: newJob({ uniqueKey: 'charge:9', serialKey: 'acct:3' }), conflict: undefined, with: null },
  ],
  /** Finished jobs and runs before this are pruned. */
  pruneBefore: at(-7 * DAY),
} as const;
