/**
 * The PostgreSQL store's two hot statements on their own: claim N jobs, then
 * complete them, one statement each, in a loop over a queued backlog, on one
 * connection. Prints per job: each statement's time as the client sees it
 * (round trip and commit included), WAL bytes, and how many updates of the
 * jobs table were HOT (written in place, no index touched). A measure of a
 * table layout, with no worker, runner or peer library in the way.
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
import { DATABASE_URL, ROOT_DIR, sleep } from './common.mjs';

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
  };
  console.log(JSON.stringify(result));
} finally {
  await store.close().catch(() => undefined);
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
}
