/**
 * The PostgreSQL store's prune over an expired history, the way the leader's
 * pruner calls it (10,000 a batch until a batch comes back short), with
 * `--dead` dead jobs (and their dead letters) older than that history: what
 * a deployment keeps for 30 days below the completed jobs that expire after
 * one. Prints, per build and round, the whole server's CPU (every PostgreSQL
 * process of this machine, from /proc) ÷ jobs pruned, and the wall time.
 *
 *   node bench/prune.mjs [--dead 100000] [--expired 50000] [--rounds 2] [--root <checkout>]…
 *
 * Each `--root` is a built checkout (its `dist/`; default this one): builds
 * given together run interleaved, alternating which goes first, for an A/B.
 * Rows are written directly as finished jobs (no drain first); each round
 * uses its own schema, dropped after.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DATABASE_URL, ROOT_DIR, median, postgresCpuMicros } from './common.mjs';

const { values } = parseArgs({
  options: {
    dead: { type: 'string', default: '100000' },
    expired: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '2' },
    root: { type: 'string', multiple: true },
  },
});
const roots = (values.root ?? [ROOT_DIR]).map((r) => path.resolve(r));
const dead = Number(values.dead);
const expired = Number(values.expired);
const now = new Date('2026-01-01T00:00:00Z');
const finished = new Date(now.getTime() - 1000);
const BATCH = 10_000;

/** One prune of the whole expired history on the build at `root`. */
async function measure(root) {
  const lib = (rel) => import(pathToFileURL(path.join(root, 'dist/lib/postgres', rel)).href);
  const { openPostgres } = await lib('postgres.connection.js');
  const { PostgresStore } = await lib('postgres.store.js');
  const schema = `bench_prune_${process.pid}`;
  const admin = new pg.Client(DATABASE_URL);
  await admin.connect();
  const options = { type: 'postgres', url: DATABASE_URL, schema };
  const store = new PostgresStore(await openPostgres(options, 'bench-prune'), options);
  try {
    await store.init();
    const jobs = `"${schema}".scheduler_jobs`;
    const deadLetters = `"${schema}".scheduler_dead_letters`;
    const insert = (n, state) =>
      admin.query(
        `INSERT INTO ${jobs} (name, queue, args, priority, state, attempt, max_attempts, run_at, scheduled_at, finished_at)
         SELECT 'noop', 'default', '{}'::jsonb, 0, $2, 1, 1, $3::timestamptz, $3::timestamptz, $3::timestamptz FROM generate_series(1, $1::int)`,
        [n, state, finished],
      );
    // The dead first: lower ids than the history that expires.
    await insert(dead, 'dead');
    await admin.query(
      `INSERT INTO ${deadLetters} (id, queue, name, error_class, died_at) SELECT id, queue, name, 'Error', finished_at FROM ${jobs} WHERE state = 'dead'`,
    );
    await insert(expired, 'completed');
    await admin.query(`VACUUM ANALYZE ${jobs}, ${deadLetters}`);
    const cpu0 = postgresCpuMicros();
    const t0 = process.hrtime.bigint();
    let pruned = 0;
    for (;;) {
      const n = await store.prune(['completed', 'discarded', 'cancelled'], now, BATCH);
      pruned += n;
      if (n < BATCH) break;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = cpu0 === null ? null : postgresCpuMicros() - cpu0;
    const left = (await admin.query(`SELECT count(*)::int AS n FROM ${jobs} WHERE state = 'completed'`)).rows[0].n;
    const letters = (await admin.query(`SELECT count(*)::int AS n FROM ${deadLetters}`)).rows[0].n;
    if (pruned !== expired || left !== 0 || letters !== dead)
      throw new Error(`pruned ${pruned} of ${expired}, ${left} left, ${letters} of ${dead} dead letters kept`);
    return { serverCpuUsPerJob: cpu === null ? null : +(cpu / pruned).toFixed(2), ms: Math.round(ms) };
  } finally {
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

const results = Object.fromEntries(roots.map((r) => [r, []]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const root of round % 2 ? [...roots].reverse() : roots) results[root].push(await measure(root));
}
const summary = roots.map((root) => ({
  root,
  dead,
  expired,
  rounds: results[root],
  medianServerCpuUsPerJob: results[root][0].serverCpuUsPerJob === null ? null : +median(results[root].map((r) => r.serverCpuUsPerJob)).toFixed(2),
  medianMs: Math.round(median(results[root].map((r) => r.ms))),
}));
console.log(JSON.stringify(summary));
