import { describe, expect, it } from 'vitest';
import type { WorkflowRun, WorkflowRunState } from '../../../lib/store/workflow-run.types.js';
import { WorkflowRepairPlugin, type WorkflowRepairPorts } from '../../../lib/workflow/workflow.repair.js';

const T0 = Date.UTC(2026, 0, 1);
const INTERVAL = 15_000;

/** A run as the store lists it: `stuck` has a step marked queued whose job insert was lost. */
function run(id: number, state: WorkflowRunState, updatedAt: number, stuck = false): WorkflowRun {
  const step = { state: 'pending', jobId: stuck ? 'queued' : null } as unknown as WorkflowRun['steps'][string];
  return {
    id: String(id),
    workflow: 'w',
    version: '1',
    state,
    context: {},
    steps: { a: step },
    seq: 0,
    error: null,
    trace: null,
    runAt: null,
    createdAt: new Date(T0),
    updatedAt: new Date(updatedAt),
    finishedAt: null,
  };
}

/**
 * The repair over `runs`, with a store that lists them newest first by keyset pages (and reads one by id as it is
 * in `now`, else in `runs`), and an engine that records what it is asked.
 */
function setup(runs: WorkflowRun[], engineParts: Record<string, unknown> = {}, now = new Map<string, WorkflowRun>()) {
  const listed: number[] = [];
  const enqueued: string[] = [];
  const advanced: string[] = [];
  const store: WorkflowRepairPorts['store'] = {
    async get() {
      return null;
    },
    async getRun(id) {
      return now.get(id) ?? runs.find((r) => r.id === id) ?? null;
    },
    async listRuns({ states, limit = 100, afterId }) {
      const page = runs
        .filter((r) => states!.includes(r.state) && (afterId === undefined || Number(r.id) < Number(afterId)))
        .sort((a, b) => Number(b.id) - Number(a.id))
        .slice(0, limit);
      if (states!.includes('running')) listed.push(page.length);
      return page;
    },
  };
  const engine = {
    definition: () => undefined,
    rollback: { begin: async () => undefined },
    enqueueSteps: async (r: WorkflowRun, steps: readonly string[]) => {
      if (steps.length > 0) enqueued.push(r.id);
    },
    advance: async (id: string) => void advanced.push(id),
    ...engineParts,
  } as unknown as WorkflowRepairPorts['engine'];
  const repair = new WorkflowRepairPlugin({ store, engine, isLeader: () => true, interval: INTERVAL });
  return { repair, listed, enqueued, advanced };
}

describe('WorkflowRepairPlugin', () => {
  it('goes through every running run, a page of 1,000 a sweep, then starts over: an old stuck run below 2,000 newer ones is repaired', async () => {
    const runs = Array.from({ length: 2_500 }, (_, i) => run(i + 1, 'running', T0, i === 0));
    const { repair, listed, enqueued, advanced } = setup(runs);
    const now = T0 + INTERVAL;
    await repair.repair(now);
    await repair.repair(now);
    expect(enqueued).toEqual([]);
    await repair.repair(now);
    expect(enqueued).toEqual(['1']);
    expect(listed).toEqual([1_000, 1_000, 500]);
    expect(new Set(advanced).size).toBe(2_500);
    await repair.repair(now);
    expect(listed).toEqual([1_000, 1_000, 500, 1_000]);
    expect(advanced.at(-1)).toBe('1501');
  });

  it('leaves runs changed within the last interval to their own progress', async () => {
    const { repair, enqueued, advanced } = setup([run(1, 'running', T0, true), run(2, 'running', T0 + 1, true)]);
    await repair.repair(T0 + INTERVAL);
    expect(enqueued).toEqual(['1']);
    expect(advanced).toEqual(['1']);
  });

  it('compensates what a failed run owes, and of a run cancelled with rollback only the steps the cancel marked', async () => {
    const completed = (extra: object = {}) => ({ state: 'completed', rollback: null, ...extra }) as unknown as WorkflowRun['steps'][string];
    const failed = { ...run(1, 'failed', T0), steps: { a: completed() } };
    // Completed before the cancel or after it (a late completion): marked by the cancel, whose chain was lost or ended first.
    const cancelledLate = { ...run(2, 'cancelled', T0), steps: { a: completed({ rollbackIfCompleted: true }) } };
    // Completed before a cancel without rollback: nothing is owed.
    const cancelledPlain = { ...run(3, 'cancelled', T0), steps: { a: completed() } };
    const begun: string[] = [];
    const { repair } = setup([failed, cancelledLate, cancelledPlain], {
      definition: () => ({ version: '1', steps: new Map([['a', { runRollback: () => undefined }]]) }),
      rollback: { begin: async (r: WorkflowRun) => void begun.push(r.id) },
    });
    await repair.repair(T0 + INTERVAL);
    expect(begun.sort()).toEqual(['1', '2']);
  });

  it('queues no chain for a run whose page predates its change: a chain that compensated and ended since (its unique key free)', async () => {
    const completed = { state: 'completed', rollback: null, rollbackIfCompleted: true } as unknown as WorkflowRun['steps'][string];
    const listed = { ...run(1, 'cancelled', T0), steps: { a: completed } };
    const rolledBack = { ...listed, steps: { a: { ...completed, state: 'rolled_back', rollback: 'done' } }, updatedAt: new Date(T0 + INTERVAL) };
    const begun: string[] = [];
    const { repair } = setup(
      [listed, { ...run(2, 'cancelled', T0), steps: { a: completed } }],
      {
        definition: () => ({ version: '1', steps: new Map([['a', { runRollback: () => undefined }]]) }),
        rollback: { begin: async (r: WorkflowRun) => void begun.push(r.id) },
      },
      new Map([['1', rolledBack as WorkflowRun]]),
    );
    await repair.repair(T0 + INTERVAL);
    expect(begun).toEqual(['2']);
  });

  it('queues no step of a run whose page predates its change (the step marked queued got its job, which ran since)', async () => {
    const stuck = run(1, 'running', T0, true);
    const ran = { ...stuck, steps: { a: { state: 'completed', jobId: '7' } }, updatedAt: new Date(T0 + INTERVAL) } as unknown as WorkflowRun;
    const { repair, enqueued, advanced } = setup([stuck, run(2, 'running', T0, true)], {}, new Map([['1', ran]]));
    await repair.repair(T0 + INTERVAL);
    expect(enqueued).toEqual(['2']);
    expect(advanced.sort()).toEqual(['1', '2']);
  });
});
