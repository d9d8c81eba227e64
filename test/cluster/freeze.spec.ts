import { describe, expect, it } from 'vitest';
import { createTestSchema } from '../support/postgres.js';
import { createLedger, enqueueWork, killAll, useCluster, waitUntil } from '../support/cluster/cluster.js';

/**
 * A node frozen with SIGSTOP (a long GC pause, a VM migration, a debugger)
 * and thawed with SIGCONT, on real processes and real PostgreSQL: the
 * others take over its lease and its job; when it wakes, nothing it still
 * believed is acted on twice.
 */
describe('freeze (SIGSTOP / SIGCONT, child processes on PostgreSQL)', () => {
  const { start, rows } = useCluster();

  it('a frozen leader mid-job: another node leads and runs the job; thawed, its late completion is stale and no tick runs twice', async () => {
    const db = await createTestSchema('fz');
    await createLedger(db.url, db.schema);
    const common = { url: db.url, schema: db.schema, cron: true, workMs: 3_000, rescueAfter: 2_000, leaseTtl: 2_000 };
    // Gated: its attempt cannot finish before the freeze, however long the other node takes to boot.
    const frozen = start({ ...common, name: 'frozen', concurrency: 1, gated: true });
    await frozen.waitFor('leader frozen');
    await enqueueWork(db.url, db.schema, 1);
    await waitUntil(
      async () => (await rows(db.url, `SELECT count(*)::int AS n FROM "${db.schema}".ledger WHERE kind = 'start'`))[0].n === 1,
      15_000,
      'the job to start',
    );
    const awake = start({ ...common, name: 'awake', concurrency: 2 });
    await awake.waitFor('ready');

    frozen.child.kill('SIGSTOP');
    await awake.waitFor('leader awake', 15_000);
    await waitUntil(
      async () => (await rows(db.url, `SELECT state FROM "${db.schema}".scheduler_jobs WHERE name = 'work'`))[0].state === 'completed',
      20_000,
      'the job to complete elsewhere',
    );
    frozen.child.kill('SIGCONT');
    // Thawed, the old attempt runs to its end (at least once) but its completion changes nothing.
    await rows(db.url, `INSERT INTO "${db.schema}".ledger (kind, node) VALUES ('open', 'test')`);
    await waitUntil(
      async () => (await rows(db.url, `SELECT count(*)::int AS n FROM "${db.schema}".ledger WHERE kind = 'finish'`))[0].n === 2,
      15_000,
      'the thawed attempt to finish',
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const [work] = await rows(db.url, `SELECT state, attempt, result FROM "${db.schema}".scheduler_jobs WHERE name = 'work'`);
    expect(work).toMatchObject({ state: 'completed', attempt: 2 });
    const finishes = await rows(db.url, `SELECT node, attempt FROM "${db.schema}".ledger WHERE kind = 'finish' ORDER BY attempt`);
    expect(finishes).toEqual([
      { node: 'frozen', attempt: 1 },
      { node: 'awake', attempt: 2 },
    ]);
    // Every tick before, during and after the freeze ran once, and none is missing.
    const ticks = await rows(db.url, `SELECT tick, count(*)::int AS n FROM "${db.schema}".ledger WHERE kind = 'tick' GROUP BY tick ORDER BY tick`);
    expect(ticks.every((t) => t.n === 1)).toBe(true);
    const times = ticks.map((t) => new Date(t.tick).getTime());
    expect(times.length).toBe((times.at(-1)! - times[0]!) / 1000 + 1);
    await killAll([frozen, awake]);
    await db.drop();
  }, 90_000);
});
