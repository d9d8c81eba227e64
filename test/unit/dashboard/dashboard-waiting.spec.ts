import { describe, expect, it } from 'vitest';
import { waitingReasons, type WaitingFacts } from '../../../lib/dashboard/dashboard-waiting.js';
import type { Job } from '../../../lib/store/index.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function job(patch: Partial<Job> = {}): Job {
  return {
    id: '7',
    name: 'mail',
    schedule: null,
    queue: 'default',
    args: {},
    state: 'available',
    priority: 5,
    attempt: 0,
    maxAttempts: 3,
    timeout: null,
    runAt: new Date(NOW),
    scheduledAt: new Date(NOW),
    misfired: false,
    insertedAt: new Date(NOW),
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
    ...patch,
  };
}

/** A node that runs the queue with room to spare, a leader, nothing in the way. */
function facts(patch: Partial<WaitingFacts> = {}): WaitingFacts {
  return {
    now: NOW,
    node: 'web-1',
    queuePaused: false,
    pausedName: null,
    serving: [{ node: 'web-1', running: 1, concurrency: 10 }],
    sharedStore: true,
    emptyBuckets: [],
    breaker: null,
    workflow: null,
    serialHolder: null,
    leader: 'web-1',
    ...patch,
  };
}

const codes = (j: Job, f: WaitingFacts) => waitingReasons(j, f).map((r) => r.code);

describe('why a waiting job does not run', () => {
  it('a due job with nothing in the way has no reason; a job that does not wait has none either', () => {
    expect(waitingReasons(job(), facts())).toEqual([]);
    for (const state of ['running', 'completed', 'dead', 'discarded', 'cancelled'] as const) {
      expect(waitingReasons(job({ state }), facts({ queuePaused: true, leader: null, serving: [] }))).toEqual([]);
    }
  });

  it('scheduled for a future time', () => {
    expect(waitingReasons(job({ runAt: new Date(NOW + 60_000) }), facts())).toEqual([{ code: 'scheduled', message: 'it is due at 2026-01-01T00:01:00.000Z' }]);
    expect(codes(job({ runAt: new Date(NOW) }), facts())).toEqual([]);
  });

  it('queue paused', () => {
    expect(waitingReasons(job(), facts({ queuePaused: true }))).toEqual([{ code: 'queue_paused', message: 'queue "default" is paused' }]);
  });

  it('its handler or schedule paused', () => {
    expect(waitingReasons(job({ schedule: 'nightly' }), facts({ pausedName: 'nightly' }))).toEqual([{ code: 'job_paused', message: '"nightly" is paused' }]);
  });

  it('concurrency full on every node known to run the queue, and only then', () => {
    const full = facts({
      serving: [
        { node: 'web-1', running: 2, concurrency: 2 },
        { node: 'worker-2', running: 3, concurrency: 2 },
      ],
    });
    expect(waitingReasons(job(), full)).toEqual([
      { code: 'concurrency_full', message: 'every node known to run queue "default" is full (web-1 2/2, worker-2 3/2)' },
    ]);
    const room = facts({
      serving: [
        { node: 'web-1', running: 2, concurrency: 2 },
        { node: 'worker-2', running: 1, concurrency: 2 },
      ],
    });
    expect(codes(job(), room)).toEqual([]);
    // A node whose concurrency this node cannot know is not called full.
    expect(codes(job(), facts({ serving: [{ node: 'worker-2', running: 50, concurrency: null }] }))).toEqual([]);
  });

  it('rate limit with no token, each empty bucket with when its next token comes', () => {
    const reasons = waitingReasons(
      job(),
      facts({
        emptyBuckets: [
          { kind: 'global', name: '', tokens: 0.25, nextTokenAt: NOW + 750 },
          { kind: 'jobs', name: 'mail', tokens: 0, nextTokenAt: NOW + 60_000 },
        ],
      }),
    );
    expect(reasons).toEqual([
      { code: 'rate_limited', message: 'the global rate limit has no token (0.25): the next one comes at 2026-01-01T00:00:00.750Z' },
      { code: 'rate_limited', message: 'the rate limit of job "mail" has no token (0.00): the next one comes at 2026-01-01T00:01:00.000Z' },
    ]);
  });

  it('breaker open (until it lets probes through), or half-open', () => {
    const open = { name: 'smtp', state: 'open' as const, failures: 5, openedAt: new Date(NOW), nextProbeAt: new Date(NOW + 30_000) };
    expect(waitingReasons(job(), facts({ breaker: open }))).toEqual([
      {
        code: 'breaker_open',
        message: 'circuit breaker "smtp" is open after 5 failures: its jobs wait until 2026-01-01T00:00:30.000Z, when it lets probes through',
      },
    ]);
    expect(codes(job(), facts({ breaker: { ...open, state: 'halfOpen' } }))).toEqual(['breaker_half_open']);
    expect(codes(job(), facts({ breaker: { ...open, state: 'closed', failures: 0, openedAt: null, nextProbeAt: null } }))).toEqual([]);
  });

  it('workflow dependencies pending, or the run paused', () => {
    expect(waitingReasons(job(), facts({ workflow: { runId: '3', state: 'running', pending: ['fetch', 'parse'] } }))).toEqual([
      { code: 'workflow_dependencies', message: 'workflow run 3 waits for steps "fetch", "parse"' },
    ]);
    expect(waitingReasons(job(), facts({ workflow: { runId: '3', state: 'paused', pending: [] } }))).toEqual([
      { code: 'workflow_paused', message: 'workflow run 3 is paused: no step starts until it is resumed' },
    ]);
    expect(codes(job(), facts({ workflow: { runId: '3', state: 'running', pending: [] } }))).toEqual([]);
  });

  it('a running job holds its serial key; pinned to another node', () => {
    expect(waitingReasons(job({ serialKey: 'acct-1' }), facts({ serialHolder: '4' }))).toEqual([
      { code: 'serial', message: 'job 4 with the same serial key "acct-1" is running' },
    ]);
    expect(waitingReasons(job({ pinnedNode: 'worker-2' }), facts())).toEqual([{ code: 'pinned', message: 'only node "worker-2" may run it' }]);
    expect(codes(job({ pinnedNode: 'web-1' }), facts())).toEqual([]);
  });

  it('no node serves the queue: says what it cannot know on a shared store', () => {
    const [shared] = waitingReasons(job(), facts({ serving: [] }));
    expect(shared).toEqual({ code: 'no_node', message: expect.stringContaining('this node does not run queue "default" and no job of it runs on any node') });
    expect(shared!.message).toMatch(/the store does not record which nodes run which queues, so an idle node running it cannot be seen from here/);
    expect(waitingReasons(job(), facts({ serving: [], sharedStore: false }))).toEqual([
      {
        code: 'no_node',
        message:
          'this node does not run queue "default" and no job of it runs (the memory store lives in this process: only another app of it sharing the store could)',
      },
    ]);
  });

  it('no leader', () => {
    expect(waitingReasons(job(), facts({ leader: null }))).toEqual([
      { code: 'no_leader', message: 'no node leads: schedules are not planned and jobs of dead nodes are not rescued' },
    ]);
  });

  it('gives every reason that holds, in a fixed order', () => {
    const all = waitingReasons(
      job({ runAt: new Date(NOW + 1000), serialKey: 'k', pinnedNode: 'other' }),
      facts({
        queuePaused: true,
        pausedName: 'mail',
        serving: [],
        emptyBuckets: [{ kind: 'queues', name: 'default', tokens: 0, nextTokenAt: NOW + 1 }],
        breaker: { name: 'b', state: 'open', failures: 1, openedAt: new Date(NOW), nextProbeAt: null },
        workflow: { runId: '1', state: 'paused', pending: ['a'] },
        serialHolder: '2',
        leader: null,
      }),
    );
    expect(all.map((r) => r.code)).toEqual([
      'scheduled',
      'queue_paused',
      'job_paused',
      'breaker_open',
      'rate_limited',
      'workflow_paused',
      'workflow_dependencies',
      'serial',
      'pinned',
      'no_node',
      'no_leader',
    ]);
    expect(all[3]!.message).toBe('circuit breaker "b" is open after 1 failures: its jobs wait');
    expect(all[4]!.message).toMatch(/^the rate limit of queue "default" has no token/);
  });
});
