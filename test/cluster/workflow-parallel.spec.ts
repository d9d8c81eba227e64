import { describe, expect, it } from 'vitest';
import { killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, openClusterStore, type ClusterStore } from '../support/cluster/cluster-stores.js';
import type { WorkflowRun } from '../../lib/store/workflow-run.types.js';

/** The parallel group of the nodes' `fanout` workflow (node.ts): p0 … p15, after `seed`, before `join`. */
const FANOUT = Array.from({ length: 16 }, (_, i) => `p${i}`);

/**
 * Workflow runs whose step completions land at once from several real
 * processes, on each shared store: a wide parallel group run by three nodes,
 * and one whose node is SIGKILLed holding some of its steps. Every outcome
 * is read from the ledger (what each step did, on which node, at which
 * attempt) and from the run as the store keeps it; nothing is timed.
 */
describe.each(CLUSTER_STORES)('workflow parallel steps (child processes on %s)', (kind) => {
  const { start, rows } = useCluster();
  const timing = { rescueAfter: 2_000, leaseTtl: 1_500 };
  /** The ledger rows of kind `rowKind` of one run's steps. */
  const steps = async (store: ClusterStore, runId: string, rowKind: string) =>
    (await rows(store.url, `SELECT * FROM ${store.ledger} WHERE kind = $1 AND job_id LIKE $2 ORDER BY id`, [rowKind, `${runId}:%`])).map((r) => ({
      step: (r.job_id as string).slice(runId.length + 1),
      node: r.node as string,
      attempt: r.attempt as number,
    }));
  const completed = (store: ClusterStore, runId: string) => async () => (await store.run(runId))?.state === 'completed';

  /** What holds for a completed `fanout` run however its steps were spread: each output merged, `join` once, after all. */
  async function expectJoinedOnce(store: ClusterStore, run: WorkflowRun): Promise<void> {
    expect(run.state).toBe('completed');
    for (const name of ['seed', ...FANOUT, 'join']) expect(run.steps[name]!.state, name).toBe('completed');
    // Each parallel step wrote its effect once, and its output (which names the node and attempt) is in the context.
    const effects = await steps(store, run.id, 'fan-effect');
    expect(effects.map((e) => e.step).sort()).toEqual([...FANOUT].sort());
    for (const e of effects) expect(run.context[e.step], e.step).toEqual({ node: e.node, attempt: e.attempt });
    expect(run.context.seed).toEqual(expect.any(String));
    // The join ran once, after every parallel output had been merged (it counts what it saw).
    expect(await steps(store, run.id, 'fan-join')).toHaveLength(1);
    expect(run.steps.join!.attempts).toBe(1);
    expect(run.steps.join!.output).toEqual({ joined: FANOUT.length });
    expect(run.context.joined).toBe(FANOUT.length);
    // Completion order: each step got its own sequence number (none overwrote another's completion).
    const seqs = Object.values(run.steps).map((sr) => sr.completedSeq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(run.seq).toBe(seqs.length);
  }

  it('16 parallel steps run by three nodes at once: every output merged, join once, no step run twice', async () => {
    const store = await openClusterStore(kind, 'wp');
    // Every node holds its parallel steps (gated) until all three hold 4 each: their completions then land at once
    // from three processes, however slowly each process woke on a loaded machine. No prefetch: a node claims no
    // more than its free slots, so the first awake cannot take all 16.
    const nodes = [
      start(store.settings('wp-a', { ...timing, workMs: 0, concurrency: 4, prefetch: 0, gated: true })),
      start(store.settings('wp-b', { ...timing, workMs: 0, concurrency: 4, prefetch: 0, gated: true })),
    ];
    await Promise.all(nodes.map((n) => n.waitFor('ready')));
    const starter = start(store.settings('wp-c', { ...timing, workMs: 0, concurrency: 4, prefetch: 0, gated: true, startRuns: 1, startWorkflow: 'fanout' }));
    await starter.waitFor('ready');
    const runId = starter.output.find((l) => l.startsWith('run '))!.slice(4);
    await waitUntil(async () => (await steps(store, runId, 'fan-start')).length === 12, 30_000, 'every node to hold 4 parallel steps');
    expect(new Set((await steps(store, runId, 'fan-start')).map((s) => s.node))).toEqual(new Set(['wp-a', 'wp-b', 'wp-c']));
    await rows(store.url, `INSERT INTO ${store.ledger} (kind, node) VALUES ('open', 'test')`);
    await waitUntil(completed(store, runId), 40_000, `run ${runId} to complete`);
    const run = (await store.run(runId))!;
    await expectJoinedOnce(store, run);
    // No failure anywhere, so each step ran once: one start, attempt 1.
    const started = await steps(store, runId, 'fan-start');
    expect(started.map((s) => s.step).sort()).toEqual([...FANOUT].sort());
    expect(started.every((s) => s.attempt === 1)).toBe(true);
    for (const name of ['seed', ...FANOUT, 'join']) expect(run.steps[name]!.attempts, name).toBe(1);
    const jobs = await store.jobs('__workflow.step');
    expect(jobs).toHaveLength(FANOUT.length + 2);
    expect(jobs.filter((j) => j.state !== 'completed' || j.errors.length > 0)).toEqual([]);
    // The nodes go before their store: a node still running would write its keys again after the drop.
    await killAll([...nodes, starter]);
    await store.drop();
  }, 60_000);

  it('a node SIGKILLed holding parallel steps while another completes the rest: the run completes after rescue, join once', async () => {
    const store = await openClusterStore(kind, 'wk');
    // The victim's parallel steps never finish (gated): it holds some when it dies. It claims none ahead: a loaded
    // machine could otherwise let it buffer every step before the survivor starts, leaving that one nothing to complete.
    const victim = start(
      store.settings('wk-victim', { ...timing, workMs: 0, concurrency: 4, prefetch: 0, gated: true, startRuns: 1, startWorkflow: 'fanout' }),
    );
    await victim.waitFor('ready');
    const runId = victim.output.find((l) => l.startsWith('run '))!.slice(4);
    await waitUntil(async () => (await steps(store, runId, 'fan-start')).length >= 1, 15_000, 'the victim to start parallel steps');
    const survivor = start(store.settings('wk-survivor', { ...timing, workMs: 100, concurrency: 4 }));
    await survivor.waitFor('ready');
    // Killed while the survivor completes the other parallel steps of the run.
    await waitUntil(async () => (await steps(store, runId, 'fan-effect')).length >= 1, 15_000, 'the survivor to complete a parallel step');
    victim.child.kill('SIGKILL');
    await victim.exited;
    const held = (await steps(store, runId, 'fan-start')).filter((s) => s.node === 'wk-victim').map((s) => s.step);
    expect(held.length).toBeGreaterThan(0);
    await waitUntil(completed(store, runId), 40_000, 'the run to complete');
    const run = (await store.run(runId))!;
    await expectJoinedOnce(store, run);
    // The victim wrote no effect; each step it held ran again on the survivor, as a new attempt.
    const effects = await steps(store, runId, 'fan-effect');
    expect(effects.every((e) => e.node === 'wk-survivor')).toBe(true);
    for (const step of held) {
      expect(effects.find((e) => e.step === step)!.attempt, step).toBeGreaterThan(1);
      expect(run.steps[step]!.attempts, step).toBe(2);
    }
    // A step started twice only if its first start was on the victim.
    const started = await steps(store, runId, 'fan-start');
    for (const name of FANOUT) {
      const starts = started.filter((s) => s.step === name);
      expect(
        starts.filter((s) => s.node === 'wk-survivor'),
        name,
      ).toHaveLength(1);
      expect(starts.length, name).toBe(held.includes(name) ? 2 : 1);
    }
  }, 60_000);
});

/**
 * `cancel({ rollback: true })` while a step runs on a node that is stalled
 * (SIGSTOP: a long GC pause, a frozen VM) and continued after the rollback
 * chain ended, once the step's own timer is due: its work returns before
 * the node reads the cancel, so the completion lands on the cancelled run.
 * On PostgreSQL and Redis the node acts on a cancel notice only after
 * reading the job (a round trip), so the step's return wins deterministically;
 * on SQLite the notices are read synchronously on a timer due earlier, the
 * abort wins and the step fails as an aborted attempt (not run here).
 *
 * docs/workflows.md: with `rollback: true` the completed steps are rolled
 * back as for a failed run, and a step that completes late is compensated
 * too (the cancel marks the steps it finds running).
 */
describe.each(['postgres', 'redis'] as const)('workflow cancel with rollback, late completion (child processes on %s)', (kind) => {
  const { start, rows } = useCluster();
  const timing = { rescueAfter: 60_000, leaseTtl: 1_500 };
  const ledger = async (store: ClusterStore, rowKind: string) => rows(store.url, `SELECT * FROM ${store.ledger} WHERE kind = $1 ORDER BY id`, [rowKind]);

  it('a step completing on a stalled node after the cancel and its rollback chain: recorded, then compensated by a chain of its own', async () => {
    const store = await openClusterStore(kind, 'wc');
    // No rescue during the test (rescueAfter 60 s): the stalled node's step is ended by the cancel alone.
    // One slot, busy with the late step: no free slot, so no offer (PostgreSQL's push) draws the rollback chain's job to the stopped node.
    const stalled = start(store.settings('wc-stalled', { ...timing, workMs: 3_000, concurrency: 1, startRuns: 1, startWorkflow: 'compensated' }));
    await stalled.waitFor('ready');
    const runId = stalled.output.find((l) => l.startsWith('run '))!.slice(4);
    await waitUntil(async () => (await ledger(store, 'comp-start')).length === 1, 15_000, 'the late step to start');
    stalled.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const other = start(store.settings('wc-other', { ...timing, workMs: 0, concurrency: 2, canceller: true }));
    await other.waitFor('ready');
    await rows(store.url, `INSERT INTO ${store.ledger} (kind, job_id, node) VALUES ('cancel', $1, 'test')`, [runId]);
    await waitUntil(async () => (await ledger(store, 'cancelled')).length === 1, 15_000, 'the cancel');
    // The chain compensates the one step completed at the cancel, and ends.
    await waitUntil(async () => (await ledger(store, 'comp-undo')).length === 1, 15_000, 'the rollback of the first step');
    await waitUntil(async () => (await store.jobs('__workflow.rollback')).every((j) => j.state === 'completed'), 15_000, 'the rollback chain to end');
    expect((await ledger(store, 'comp-undo'))[0]!.job_id).toBe(`${runId}:first`);
    expect((await store.run(runId))!.steps.late).toMatchObject({ state: 'running', rollbackIfCompleted: true });
    // Continued once the late step's 3 s timer is due.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 3_500 - (Date.now() - stoppedAt))));
    stalled.child.kill('SIGCONT');
    // The stalled node's abort came after the return: the completion was recorded on the cancelled run, then undone.
    await waitUntil(async () => (await ledger(store, 'comp-undo')).length === 2, 15_000, 'the rollback of the late step');
    await waitUntil(async () => (await store.run(runId))!.steps.late!.state === 'rolled_back', 15_000, 'the late step to be rolled back');
    const run = (await store.run(runId))!;
    expect(run.state).toBe('cancelled');
    expect(run.steps.first!.state).toBe('rolled_back');
    expect(run.steps.late).toMatchObject({ state: 'rolled_back', output: { late: true } });
    // Each compensated once, newest first.
    expect((await ledger(store, 'comp-undo')).map((r) => r.job_id)).toEqual([`${runId}:first`, `${runId}:late`]);
  }, 60_000);
});
