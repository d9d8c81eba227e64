import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Step, Workflow } from '../../lib/index.js';
import type { StoreOption } from '../../lib/scheduler.options.js';
import type { JobStore } from '../../lib/store/index.js';
import { createStore } from '../../lib/store/store.factory.js';
import { ROLLBACK_JOB } from '../../lib/workflow/workflow.jobs.js';
import { startApp, type TestApp } from '../support/app.js';
import { TEST_STORES, type TestStore } from '../support/stores.js';

@Injectable()
class Journal {
  lines: string[] = [];
}

/** Two compensable steps, then one on a queue held paused, so the run is still going when it is cancelled. */
@Workflow({ name: 'purchase' })
class Purchase {
  constructor(private readonly journal: Journal) {}
  @Step({ rollback: 'refund' })
  charge() {
    this.journal.lines.push('charge');
  }
  @Step({ after: 'charge', rollback: 'release' })
  reserve() {
    this.journal.lines.push('reserve');
  }
  @Step({ after: 'reserve', queue: 'held' })
  ship() {
    this.journal.lines.push('ship');
  }
  refund() {
    this.journal.lines.push('rollback:refund');
  }
  release() {
    this.journal.lines.push('rollback:release');
  }
}

/**
 * The store `option` opens, whose inserts of a rollback chain's job fail
 * while `fault.failChain` is set (the node that cancelled died, or its store
 * went away, between the cancel's write and the chain's enqueue).
 */
function chainFault(option: StoreOption) {
  const fault = { failChain: false };
  const store: StoreOption = async (context) => {
    const bundle = await createStore(option, context);
    const insert = bundle.store.insert.bind(bundle.store);
    bundle.store.insert = (async (jobs, ...rest) => {
      if (fault.failChain && jobs.some((job) => job.name === ROLLBACK_JOB)) throw new Error('store outage (injected)');
      return insert(jobs, ...rest);
    }) as JobStore['insert'];
    return bundle;
  };
  return { store, fault };
}

describe.each(TEST_STORES)('cancel({ rollback: true }) whose rollback chain was not queued, on the $kind store (fake clock)', ({ open }) => {
  let t: TestApp;
  let store: TestStore;
  const journal = () => t.get(Journal).lines;
  const rollbacks = () => journal().filter((line) => line.startsWith('rollback:'));

  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    store = await open('wf_cancel_rb');
  });
  afterEach(async () => {
    await t?.close();
    await store.drop();
    vi.restoreAllMocks();
  });

  /** Starts the app and a run, and lets it go until `charge` and `reserve` completed (`ship` waits on its paused queue). */
  const startRun = async (fault: ReturnType<typeof chainFault>) => {
    // Polls hourly and rescues after 2 h (see workflow.spec.ts); the repair sweep runs every 15 s of the fake clock.
    t = await startApp([Journal, Purchase], {
      ...store.options,
      store: fault.store,
      queues: { default: 10, held: 10 },
      pollInterval: '1h',
      lifeline: { rescueAfter: '2h' },
    });
    await t.scheduler.pauseQueue('held');
    const runId = await t.scheduler.workflows.start('purchase', {});
    for (let i = 0; i < 30; i++) {
      await t.tester.drainQueue('default');
      const run = await t.scheduler.workflows.getState(runId);
      if (run.steps.reserve!.state === 'completed' && /^\d+$/.test(run.steps.ship!.jobId ?? '')) break;
      await t.clock.advance('1s');
    }
    expect(journal()).toEqual(['charge', 'reserve']);
    return runId;
  };
  /** Moves the fake clock a minute at a time (each past the repair sweep's interval), running what is due on `default`. */
  const sweep = async (minutes: number) => {
    for (let i = 0; i < minutes; i++) {
      await t.clock.advance('1m');
      await t.tester.drainQueue('default');
    }
  };

  it('the repair sweep queues the missing chain: every completed step is compensated, once', async () => {
    const fault = chainFault(store.options.store!);
    const runId = await startRun(fault);
    fault.fault.failChain = true;
    await expect(t.scheduler.workflows.cancel(runId, { rollback: true })).rejects.toThrow(/outage/);
    fault.fault.failChain = false;
    // The cancel was written; its chain was not.
    expect((await t.scheduler.workflows.getState(runId)).state).toBe('cancelled');
    expect(await t.scheduler.listJobs({ name: ROLLBACK_JOB })).toEqual([]);
    await sweep(5);
    expect(rollbacks()).toEqual(['rollback:release', 'rollback:refund']);
    const run = await t.scheduler.workflows.getState(runId);
    expect([run.steps.charge!.state, run.steps.reserve!.state]).toEqual(['rolled_back', 'rolled_back']);
    // Later sweeps find nothing owed.
    await sweep(5);
    expect(rollbacks()).toEqual(['rollback:release', 'rollback:refund']);
    expect(await t.scheduler.listJobs({ name: ROLLBACK_JOB })).toHaveLength(1);
  });

  it('sweeps while the chain waits on its queue start no second chain', async () => {
    const fault = chainFault(store.options.store!);
    const runId = await startRun(fault);
    await t.scheduler.pauseQueue('default');
    await t.scheduler.workflows.cancel(runId, { rollback: true });
    for (let i = 0; i < 5; i++) await t.clock.advance('1m');
    await t.scheduler.resumeQueue('default');
    await sweep(3);
    expect(rollbacks()).toEqual(['rollback:release', 'rollback:refund']);
    expect(await t.scheduler.listJobs({ name: ROLLBACK_JOB })).toHaveLength(1);
  });

  it('a cancel without rollback owes nothing: no sweep compensates its steps', async () => {
    const fault = chainFault(store.options.store!);
    const runId = await startRun(fault);
    await t.scheduler.workflows.cancel(runId);
    await sweep(5);
    expect(rollbacks()).toEqual([]);
    expect(await t.scheduler.listJobs({ name: ROLLBACK_JOB })).toEqual([]);
    expect((await t.scheduler.workflows.getState(runId)).steps.charge!.state).toBe('completed');
  });
});
