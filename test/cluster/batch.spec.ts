import { describe, expect, it } from 'vitest';
import { killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, openClusterStore } from '../support/cluster/cluster-stores.js';

/**
 * A batch of 100 items (pages of 10) whose node is SIGKILLed mid-run: the
 * lifeline rescues its job and another node resumes it from the last
 * checkpoint. Items are counted from the ledger, stamped by PostgreSQL (the
 * ledger's database, whatever the store).
 */
describe.each(CLUSTER_STORES)('batch resume across nodes (child processes on %s)', (kind) => {
  const { start, rows } = useCluster();

  it('a batch whose node is SIGKILLed resumes on another from its last checkpoint: every item processed, only the page in flight again, never by two attempts at once', async () => {
    const store = await openClusterStore(kind, 'batch');
    const db = { url: store.url, schema: store.schema };
    const rescueAfter = 3_000;
    // Gated: the victim stalls at item 45, in its fifth page, until it is killed.
    const victim = start(store.settings('victim', { concurrency: 1, workMs: 5, rescueAfter, gated: true }));
    await victim.waitFor('ready victim');
    await store.insert([{ name: 'ledger-batch', n: 100 }]);
    const items = async (node?: string) =>
      (await rows(db.url, `SELECT count(*)::int AS n FROM "${db.schema}".ledger WHERE kind = 'item'${node ? ' AND node = $1' : ''}`, node ? [node] : []))[0]!
        .n as number;
    await waitUntil(async () => (await items('victim')) >= 46, 30_000, 'the victim to stall in its fifth page');
    const rescuer = start(store.settings('rescuer', { concurrency: 1, workMs: 2, rescueAfter }));
    await rescuer.waitFor('ready rescuer');
    victim.child.kill('SIGKILL');
    await victim.exited;

    const job = async () => (await store.jobs('ledger-batch'))[0]!;
    await waitUntil(async () => (await job()).state === 'completed', 30_000, 'the batch to complete on the rescuer');
    const done = await job();
    expect(done.attempt).toBe(2);
    expect(done.result).toMatchObject({ status: 'completed', processed: 100, failed: 0, cursor: 100 });
    expect(done.progress).toEqual({ processed: 100, failed: 0, cursor: 100 });

    const ledger = await rows(db.url, `SELECT job_id::int AS item, node, attempt, at FROM "${db.schema}".ledger WHERE kind = 'item' ORDER BY at`);
    // Every item was processed.
    expect(new Set(ledger.map((r) => r.item)).size).toBe(100);
    // The rescuer started at the victim's last checkpoint: past its first four pages.
    const resumedAt = Math.min(...ledger.filter((r) => r.node === 'rescuer').map((r) => r.item));
    expect(resumedAt).toBe(40);
    expect(ledger.filter((r) => r.node === 'rescuer').every((r) => r.attempt === 2 && r.item >= resumedAt)).toBe(true);
    // Only the items of the page the kill cut short ran twice.
    const twice = [...new Set(ledger.filter((r) => ledger.filter((o) => o.item === r.item).length > 1).map((r) => r.item))].sort((a, b) => a - b);
    expect(twice[0]).toBe(40);
    expect(twice.every((item) => item >= 40 && item < 50)).toBe(true);
    // Never by two attempts at once: the rescuer's first item came after the victim's last.
    const lastOfVictim = Math.max(...ledger.filter((r) => r.node === 'victim').map((r) => Date.parse(r.at)));
    const firstOfRescuer = Math.min(...ledger.filter((r) => r.node === 'rescuer').map((r) => Date.parse(r.at)));
    expect(firstOfRescuer).toBeGreaterThan(lastOfVictim);

    await killAll([rescuer]);
    await store.drop();
  }, 90_000);
});
