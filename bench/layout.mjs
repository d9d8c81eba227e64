/**
 * The PostgreSQL store's two hot statements on their own: claim N jobs, then
 * complete them, one statement each, in a loop over a queued backlog, on one
 * connection. Prints per job: each statement's time as the client sees it
 * (round trip and commit included), WAL bytes, and how many updates of the
 * jobs table were HOT (written in place, no index touched). A measure of a
 * table layout, with no worker, runner or peer library in the way.
 *
 * Then what keeping that history costs once it expires: the leader's prune
 * statement (batches of 10,000, as the store runs it) over the completed
 * jobs, and the `VACUUM`s that reclaim what the drain and the prune left,
 * each as the server backend's CPU a job (from /proc/<pid>/schedstat, so
 * only when PostgreSQL runs on this machine; `null` otherwise), beside the
 * claim and completion's own, and a `DROP TABLE` of a copy of those rows,
 * what a time partition dropped whole would cost instead.
 *
 *   node bench/layout.mjs [--jobs 20000] [--batch 500] [--root <checkout>]
 *
 * Prints one JSON line. `--root` measures another built checkout (its `dist/`), for an A/B of two
 * layouts in one run; `npm run build` there first. Uses its own schema,
 * dropped after.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DATABASE_URL, ROOT_DIR, processCpuNs, sleep } from './common.mjs';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '20000' }, batch: { type: 'string', default: '500' }, root: { type: 'string' } } });
const root = path.resolve(values.root ?? ROOT_DIR);
const jobs = Number(values.jobs);
const batch = Number(values.batch);
const lib = (rel) => import(pathToFileURL(path.join(root, 'dist/lib/postgres', rel)).href);
const { openPostgres } = await lib('postgres.connection.js');
const { PostgresStore } = await lib('postgres.store.js');
const { postgresStatements } = await lib('sql/index.js');

const schema = `bench_layout_${process.pid}`;
const admin = new pg.Client(DATABASE_URL);
await admin.connect();
const options = { type: 'postgres', url: DATABASE_URL, schema };
const ctx = await openPostgres(options, 'bench-layout');
const store = new PostgresStore(ctx, options);
const now = new Date('2026-01-01T00:00:00Z');

/** `fn()` on the connection of backend `pid`, and the backend's CPU µs a job of `count` (`null`: not measurable here). */
async function serverCpu(pid, count, fn) {
  const before = processCpuNs(pid);
  const result = await fn();
  const after = processCpuNs(pid);
  return { result, usPerJob: before === null || after === null || count === 0 ? null : +((after - before) / 1000 / count).toFixed(2) };
}

try {
  await store.init();
  for (let done = 0; done < jobs; done += 1000) {
    await store.insert(
      Array.from({ length: Math.min(1000, jobs - done) }, (_, i) => ({
        name: 'noop',
        queue: 'default',
        args: { i },
        priority: 0,
        maxAttempts: 3,
        timeout: null,
        runAt: now,
      })),
    );
  }
  await admin.query(`VACUUM ANALYZE "${schema}".scheduler_jobs`);
  const sql = postgresStatements(ctx);
  const client = await ctx.pool.connect();
  const pid = (await client.query('SELECT pg_backend_pid() AS p')).rows[0].p;
  const cpu0 = processCpuNs(pid);
  const jobsTable = `"${schema}".scheduler_jobs`;
  const stats = async () =>
    (await admin.query(`SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relid = $1::regclass`, [jobsTable])).rows[0];
  const lsn = async () => (await admin.query('SELECT pg_current_wal_lsn() AS l')).rows[0].l;
  const before = await stats();
  const wal0 = await lsn();
  let claimNs = 0;
  let completeNs = 0;
  let moved = 0;
  // Leave the last tenth queued, so every claim reads from a backlog.
  while (moved < jobs * 0.9) {
    const claim = sql.claim.claim({ queue: 'default', limit: batch, node: 'bench-layout', now }, null);
    let t = process.hrtime.bigint();
    const { rows } = await client.query({ name: claim.name, text: claim.text, values: claim.values });
    claimNs += Number(process.hrtime.bigint() - t);
    const claimed = JSON.parse(rows[0].jobs ?? '[]');
    if (claimed.length === 0) break;
    const complete = sql.ack.completeMany(claimed.map((j) => ({ id: j[0], attempt: j[6], result: null, finishedAt: now, forget: false })));
    t = process.hrtime.bigint();
    await client.query({ name: complete.name, text: complete.text, values: complete.values });
    completeNs += Number(process.hrtime.bigint() - t);
    moved += claimed.length;
  }
  const wal = Number((await admin.query('SELECT pg_wal_lsn_diff($1, $2) AS d', [await lsn(), wal0])).rows[0].d);
  const cpu1 = processCpuNs(pid);
  const lifeCpuUsPerJob = cpu0 === null || cpu1 === null ? null : +((cpu1 - cpu0) / 1000 / moved).toFixed(2);

  // Retention: the drain's dead versions reclaimed, then the history pruned as the leader does once it expires, then reclaimed.
  const tables = (await admin.query(`SELECT format('%I.%I', schemaname, relname) AS t FROM pg_stat_user_tables WHERE schemaname = $1`, [schema])).rows.map(
    (r) => r.t,
  );
  const vacuum = () => client.query(`VACUUM ${tables.join(', ')}`);
  const afterDrain = await serverCpu(pid, moved, vacuum);
  await client.query(`CREATE TABLE "${schema}".partition_copy AS SELECT * FROM ${jobsTable} WHERE state = 'completed'`);
  await client.query(`ALTER TABLE "${schema}".partition_copy ADD PRIMARY KEY (id)`);
  const dropped = await serverCpu(pid, moved, () => client.query(`DROP TABLE "${schema}".partition_copy`));
  const walPrune0 = await lsn();
  const prune = await serverCpu(pid, moved, async () => {
    // The store's statement on this connection (its CPU is the one read), batch after batch as the store goes on after the last id.
    let pruned = 0;
    let after = null;
    for (;;) {
      const statement = sql.query.prune(['completed'], new Date(now.getTime() + 1000), 10_000, after);
      const { n, last } = (await client.query(statement.text, statement.values)).rows[0];
      pruned += n;
      if (n < 10_000) return pruned;
      after = last;
    }
  });
  const pruneWal = Number((await admin.query('SELECT pg_wal_lsn_diff($1, $2) AS d', [await lsn(), walPrune0])).rows[0].d);
  const afterPrune = await serverCpu(pid, moved, vacuum);
  client.release();
  // A backend reports its table statistics when it goes idle for a while or exits: close the pool's.
  await store.close();
  await sleep(500);
  const after = await stats();
  const updates = after.upd - before.upd;
  const result = {
    root,
    jobs: moved,
    batch,
    claimUsPerJob: +(claimNs / 1000 / moved).toFixed(1),
    completeUsPerJob: +(completeNs / 1000 / moved).toFixed(1),
    walBytesPerJob: Math.round(wal / moved),
    hotShare: updates > 0 ? +((after.hot - before.hot) / updates).toFixed(2) : null,
    retention: {
      pruned: prune.result,
      lifeCpuUsPerJob,
      vacuumAfterDrainCpuUsPerJob: afterDrain.usPerJob,
      pruneCpuUsPerJob: prune.usPerJob,
      vacuumAfterPruneCpuUsPerJob: afterPrune.usPerJob,
      pruneWalBytesPerJob: Math.round(pruneWal / moved),
      partitionDropCpuUsPerJob: dropped.usPerJob,
    },
  };
  console.log(JSON.stringify(result));
} finally {
  await store.close().catch(() => undefined);
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
}
