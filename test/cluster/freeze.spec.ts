import { describe, expect, it } from 'vitest';
import { expectEverySecond, killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';
import { CLUSTER_STORES, openClusterStore } from '../support/cluster/cluster-stores.js';

/**
 * A node frozen with SIGSTOP (a long GC pause, a VM migration, a debugger)
 * and thawed with SIGCONT, on real processes and each shared store: the
 * others take over its lease and its job; when it wakes, nothing it still
 * believed is acted on twice.
 */
describe.each(CLUSTER_STORES)('freeze (SIGSTOP / SIGCONT, child processes on %s)', (kind) => {
  const { start, rows } = useCluster();

  it('a frozen leader mid-job: another node leads and runs the job; thawed, its late completion is stale and no tick runs twice', async () => {
    const store = await openClusterStore(kind, 'fz');

    const work = async () => (await store.jobs('work'))[0];
    const common = { cron: true, workMs: 3_000, rescueAfter: 2_000, leaseTtl: 2_000 };
    // Gated: its attempt cannot finish before the freeze, however long the other node takes to boot.
    const frozen = start(store.settings('frozen', { ...common, concurrency: 1, gated: true }));
    await frozen.waitFor('leader frozen');
    await store.insert([{ n: 0 }]);
    await waitUntil(
      async () => (await rows(store.url, `SELECT count(*)::int AS n FROM ${store.ledger} WHERE kind = 'start'`))[0]!.n === 1,
      15_000,
      'the job to start',
    );
    const awake = start(store.settings('awake', { ...common, concurrency: 2 }));
    await awake.waitFor('ready');

    frozen.child.kill('SIGSTOP');
    await awake.waitFor('leader awake', 15_000);
    await waitUntil(async () => (await work())?.state === 'completed', 20_000, 'the job to complete elsewhere');
    frozen.child.kill('SIGCONT');
    // Thawed, the old attempt runs to its end (at least once) but its completion changes nothing.
    await rows(store.url, `INSERT INTO ${store.ledger} (kind, node) VALUES ('open', 'test')`);
    await waitUntil(
      async () => (await rows(store.url, `SELECT count(*)::int AS n FROM ${store.ledger} WHERE kind = 'finish'`))[0]!.n === 2,
      15_000,
      'the thawed attempt to finish',
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    expect(await work()).toMatchObject({ state: 'completed', attempt: 2 });
    const finishes = await rows(store.url, `SELECT node, attempt FROM ${store.ledger} WHERE kind = 'finish' ORDER BY attempt`);
    expect(finishes).toEqual([
      { node: 'frozen', attempt: 1 },
      { node: 'awake', attempt: 2 },
    ]);
    // Every tick before, during and after the freeze ran once, and none is missing.
    const ticks = await rows(store.url, `SELECT tick, count(*)::int AS n FROM ${store.ledger} WHERE kind = 'tick' GROUP BY tick ORDER BY tick`);
    expect(ticks.filter((t) => t.n !== 1)).toEqual([]);
    expectEverySecond(ticks.map((t) => new Date(t.tick).getTime()));
    await killAll([frozen, awake]);
    await store.drop();
  }, 90_000);
});
