/**
 * Design A1 of POSTGRES-V2.md §5 against today's statements, in one run: the
 * claim and completion loop of `layout.mjs`, once with the store's own
 * statements (the claim writes each job row: state, attempt, start, node,
 * fencing token, claim) and once with a prototype claim that writes no job
 * row (the claims row carries the attempts, fencing tokens and start, the
 * answer computes them) and a completion that writes them with the outcome,
 * fenced by the claim token still present and the job row untouched since.
 * Interleaved rounds on fresh backlogs. Per job: client time of each
 * statement, CPU of the one server backend that ran them (from /proc, so
 * the server must be local), WAL bytes, the HOT share of jobs updates and
 * the jobs table's heap bytes a job (history kept).
 *
 *   node bench/layout-a1.mjs [--jobs 20000] [--batch 500] [--rounds 3] [--clients 1]
 *     [--variants v2,a1,a1-gin,v2-ff30,v2-generic,a1-generic]
 *
 * `--clients N` runs N connections claiming and completing at once (a
 * drain's concurrency on the same pages); CPU is then the sum of their backends.
 *
 * A measure to decide with, not the store's code: the prototype has the
 * store claim's serial-key and paused-name machinery (a serial key's holder
 * runs while a live claim names its id: a scan of the few claims rows), not
 * the rate-limited claim nor the cursor.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DATABASE_URL, ROOT_DIR, sleep } from './common.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '1' },
    variants: { type: 'string', default: 'v2,a1' },
  },
});
const jobs = Number(values.jobs);
const batch = Number(values.batch);
const rounds = Number(values.rounds);
const clients = Number(values.clients);
const variants = values.variants.split(',');
let tokens = 0;
const lib = (rel) => import(pathToFileURL(path.join(ROOT_DIR, 'dist/lib/postgres', rel)).href);
const { openPostgres } = await lib('postgres.connection.js');
const { PostgresStore } = await lib('postgres.store.js');
const { postgresStatements } = await lib('sql/index.js');

/** CPU µs of one process, from /proc (utime + stime, 10 ms ticks). */
function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 1e4;
}

/** The A1 prototype's statements for schema `s`. */
function a1Statements(s) {
  const t = (name) => `"${s}".scheduler_${name}`;
  const ms = (e) => `floor(date_part('epoch', ${e}) * 1000 + 0.0005)`;
  // The claimed job's JSON, as claimedJson() builds it, with the attempt and token computed instead of read back.
  const json = `json_build_array(j.id::text, j.name, j.schedule, j.queue, j.args, j.priority, j.attempt + 1, j.max_attempts, j.timeout_ms,
      j.misfired, j.fencing, j.tick_key, j.unique_key, j.serial_key, j.pinned_node, j.tags, j.meta, j.result, j.errors, j.trace,
      j.progress, j.preemptible, ${ms('j.run_at')}, ${ms('j.scheduled_at')}, ${ms('j.inserted_at')})`;
  // A serial key's holder runs while a live claim names it (the job row no longer says so).
  const holderRuns = (alias) => `EXISTS (SELECT 1 FROM ${t('claims')} c WHERE ${alias}.id = ANY(c.ids))`;
  const claim = `
    WITH picked AS (
      SELECT r.ctid AS rid, r.priority, r.run_at, r.id, r.serial_key FROM ${t('ready')} r
      WHERE r.queue = $1 AND r.run_at <= $2::timestamptz AND r.priority <= $5 AND (r.pinned_node IS NULL OR r.pinned_node = $3)
        AND (NOT EXISTS (SELECT 1 FROM ${t('schedule_states')} WHERE paused)
          OR NOT EXISTS (SELECT 1 FROM ${t('schedule_states')} p WHERE p.paused AND (p.name = r.name OR p.name = r.schedule)))
        AND (r.serial_key IS NULL OR (
          NOT EXISTS (SELECT 1 FROM ${t('serial_running')} s WHERE s.serial_key = r.serial_key AND ${holderRuns('s')})
          AND NOT EXISTS (
            SELECT 1 FROM ${t('ready')} o
            WHERE o.serial_key = r.serial_key AND o.id <> r.id AND o.queue = $1 AND o.run_at <= $2::timestamptz AND o.priority <= $5
              AND (o.pinned_node IS NULL OR o.pinned_node = $3)
              AND (o.priority, o.run_at, o.id) < (r.priority, r.run_at, r.id))))
      ORDER BY r.priority, r.run_at, r.id
      LIMIT $4
      FOR UPDATE OF r SKIP LOCKED
    ),
    gone AS (DELETE FROM ${t('ready')} r WHERE r.ctid = ANY(ARRAY(SELECT rid FROM picked))),
    freed AS (
      DELETE FROM ${t('serial_running')} s USING picked p
      WHERE p.serial_key IS NOT NULL AND s.serial_key = p.serial_key AND NOT ${holderRuns('s')}
      RETURNING s.serial_key
    ),
    serial AS (
      INSERT INTO ${t('serial_running')} (serial_key, id)
      SELECT serial_key, id FROM picked WHERE serial_key IS NOT NULL AND (SELECT count(*) FROM freed) >= 0
    ),
    waited AS (
      DELETE FROM ${t('job_keys')} k USING picked p
      WHERE p.serial_key IS NOT NULL AND k.kind = 's' AND k.key = p.serial_key AND k.id = p.id
    ),
    x AS (
      SELECT j.*, nextval('"${s}".scheduler_fencing_seq') AS fencing
      FROM ${t('jobs')} j
      WHERE j.id = ANY(ARRAY(SELECT id FROM picked)) AND j.state = 'available'
    ),
    batch AS (
      INSERT INTO ${t('claims')} (token, node, ids, pending, attempts, fencing, started, at)
      SELECT $7::uuid, $3, array_agg(id ORDER BY priority, run_at, id), count(*), array_agg(attempt + 1 ORDER BY priority, run_at, id),
        array_agg(fencing ORDER BY priority, run_at, id), $6, $2::timestamptz FROM x HAVING count(*) > 0
    )
    SELECT json_agg(${json} ORDER BY j.priority, j.run_at, j.id)::text AS jobs FROM x j`;
  // Each entry: [attempt, finished ms, result, started ms, fencing, token]; the node is the caller's.
  const entry = `($2::jsonb -> (j.id::text))`;
  const complete = `
    WITH live AS (SELECT token FROM ${t('claims')} WHERE token = ANY($3::uuid[])),
    written AS (
      UPDATE ${t('jobs')} j
      SET state = 'completed', result = nullif(${entry} -> 2, 'null'::jsonb),
        finished_at = 'epoch'::timestamptz + (${entry} ->> 1)::float8 * interval '1 millisecond',
        started_at = 'epoch'::timestamptz + (${entry} ->> 3)::float8 * interval '1 millisecond',
        attempt = (${entry} ->> 0)::int, fencing_token = (${entry} ->> 4)::bigint, node = $4, claim = (${entry} ->> 5)::uuid
      WHERE j.id = ANY(ARRAY(SELECT unnest($1::bigint[]))) AND j.attempt = (${entry} ->> 0)::int - 1 AND (j.state || '') = 'available'
        AND (${entry} ->> 5)::uuid = ANY(ARRAY(SELECT token FROM live))
      RETURNING j.id, j.claim, j.state, j.queue, j.serial_key, j.unique_key
    ),
    counts AS (SELECT claim AS token, count(*)::int AS k FROM written GROUP BY claim),
    done AS (DELETE FROM ${t('claims')} c USING counts s WHERE c.token = s.token AND c.pending <= s.k),
    kept AS (UPDATE ${t('claims')} c SET pending = c.pending - s.k FROM counts s WHERE c.token = s.token AND c.pending > s.k),
    serial AS (DELETE FROM ${t('serial_running')} r USING written f WHERE f.serial_key IS NOT NULL AND r.serial_key = f.serial_key AND r.id = f.id),
    unkeyed AS (DELETE FROM ${t('job_keys')} k USING written f WHERE f.serial_key IS NOT NULL AND k.kind = 's' AND k.key = f.serial_key AND k.id = f.id),
    uniq AS (
      DELETE FROM ${t('unique_keys')} k USING written f
      WHERE f.unique_key IS NOT NULL AND k.key = f.unique_key AND k.id = f.id AND k.states & 8 = 0
    ),
    uniq_kept AS (
      UPDATE ${t('unique_keys')} k SET completed = true FROM written f
      WHERE f.unique_key IS NOT NULL AND k.key = f.unique_key AND k.id = f.id AND k.states & 8 <> 0
    ),
    -- The store's completion keeps dead letters and rare finished rows in the same statement; a completion adds none but reads its rows.
    dead AS (INSERT INTO ${t('dead_letters')} (id, queue, name, error_class, died_at, alert_at)
      SELECT f.id, f.queue, '', NULL, now(), now() FROM written f WHERE f.state = 'dead'),
    rare AS (INSERT INTO ${t('rare_finished')} (id, queue, state) SELECT f.id, f.queue, f.state FROM written f WHERE f.state IN ('cancelled', 'discarded')),
    counted AS (
      INSERT INTO ${t('queue_counts')} AS q (queue, state, slot, n)
      SELECT f.queue, 'completed', pg_backend_pid() % 16, count(*) FROM written f GROUP BY f.queue
      ON CONFLICT (queue, state, slot) DO UPDATE SET n = q.n + EXCLUDED.n
    )
    SELECT count(*)::int AS count FROM written`;
  return { claim, complete };
}

const admin = new pg.Client(DATABASE_URL);
await admin.connect();
const now = new Date('2026-01-01T00:00:00Z');

async function round(variant) {
  const schema = `bench_a1_${process.pid}`;
  const options = { type: 'postgres', url: DATABASE_URL, schema };
  const ctx = await openPostgres(options, 'bench-layout');
  const store = new PostgresStore(ctx, options);
  try {
    await store.init();
    if (!variant.startsWith('v2')) {
      await admin.query(
        `ALTER TABLE "${schema}".scheduler_claims ADD COLUMN attempts int[], ADD COLUMN fencing bigint[], ADD COLUMN started int, ADD COLUMN at timestamptz`,
      );
    }
    // 'v2-ff30': today's statements on pages kept 70 % free (every completion HOT, 1.5× the pages of history).
    if (variant.startsWith('v2-ff30')) await admin.query(`ALTER TABLE "${schema}".scheduler_jobs SET (fillfactor = 30)`);
    // 'a1-gin': the same, with the claims' job ids indexed (a running job found by id without a scan of the claims).
    if (variant === 'a1-gin') await admin.query(`CREATE INDEX ON "${schema}".scheduler_claims USING gin (ids)`);
    for (let done = 0; done < jobs; done += 1000) {
      const rows = Array.from({ length: Math.min(1000, jobs - done) }, (_, i) => ({
        name: 'noop',
        queue: 'default',
        args: { i },
        priority: 0,
        maxAttempts: 3,
        timeout: null,
        runAt: now,
      }));
      await store.insert(rows);
    }
    await admin.query(`VACUUM ANALYZE "${schema}".scheduler_jobs`);
    await admin.query(`VACUUM ANALYZE "${schema}".scheduler_ready`);
    const sql = postgresStatements(ctx);
    const a1 = a1Statements(schema);
    const conns = await Promise.all(Array.from({ length: clients }, () => ctx.pool.connect()));
    const pids = await Promise.all(conns.map(async (c) => (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p));
    // '…-generic': the prepared statements planned once per connection (no custom plan per execution).
    if (variant.endsWith('-generic')) await Promise.all(conns.map((c) => c.query('SET plan_cache_mode = force_generic_plan')));
    const cpuAll = () => pids.reduce((sum, p) => sum + cpuMicros(p), 0);
    const jobsTable = `"${schema}".scheduler_jobs`;
    const stats = async () =>
      (await admin.query(`SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relid = $1::regclass`, [jobsTable])).rows[0];
    const lsn = async () => (await admin.query('SELECT pg_current_wal_lsn() AS l')).rows[0].l;
    const before = await stats();
    const wal0 = await lsn();
    const cpu0 = cpuAll();
    let claimNs = 0;
    let completeNs = 0;
    let moved = 0;
    let claimCpu = 0;
    let completeCpu = 0;
    // Each connection claims and completes in turn; with one, each statement's CPU is read apart.
    const loop = async (client, pid) => {
      const cpu = () => (clients === 1 ? cpuMicros(pid) : 0);
      while (moved < jobs * 0.9) {
        let claim;
        const uuid = `00000000-0000-4000-8000-${String(++tokens).padStart(12, '0')}`;
        if (!variant.startsWith('v2')) claim = { name: 'a1_claim', text: a1.claim, values: ['default', now, 'bench-layout', batch, 9, batch, uuid] };
        else claim = sql.claim.claim({ queue: 'default', limit: batch, node: 'bench-layout', now }, null);
        let c = cpu();
        let t = process.hrtime.bigint();
        const { rows } = await client.query(claim);
        claimNs += Number(process.hrtime.bigint() - t);
        claimCpu += cpu() - c;
        const claimed = JSON.parse(rows[0].jobs ?? '[]');
        if (claimed.length === 0) break;
        let complete;
        if (!variant.startsWith('v2')) {
          let ids = '';
          let entries = '';
          const at = now.getTime();
          for (const j of claimed) {
            ids += `,${j[0]}`;
            entries += `,"${j[0]}":[${j[6]},${at},null,${at},${j[10]},"${uuid}"]`;
          }
          complete = { name: 'a1_complete', text: a1.complete, values: [`{${ids.slice(1)}}`, `{${entries.slice(1)}}`, [uuid], 'bench-layout'] };
        } else {
          complete = sql.ack.completeMany(claimed.map((j) => ({ id: j[0], attempt: j[6], result: null, finishedAt: now, forget: false })));
        }
        c = cpu();
        t = process.hrtime.bigint();
        const done = await client.query(complete);
        completeNs += Number(process.hrtime.bigint() - t);
        completeCpu += cpu() - c;
        if (done.rows[0].count !== claimed.length) throw new Error(`${variant}: completed ${done.rows[0].count} of ${claimed.length}`);
        moved += claimed.length;
      }
    };
    const started = process.hrtime.bigint();
    await Promise.all(conns.map((c, i) => loop(c, pids[i])));
    const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = cpuAll() - cpu0;
    const wal = Number((await admin.query('SELECT pg_wal_lsn_diff($1, $2) AS d', [await lsn(), wal0])).rows[0].d);
    const heap = Number((await admin.query('SELECT pg_relation_size($1::regclass) AS b', [jobsTable])).rows[0].b);
    const left = (await admin.query(`SELECT count(*)::int AS n FROM "${schema}".scheduler_claims`)).rows[0].n;
    // How the server planned the prepared statements on the first connection (custom: anew for each run's values).
    const plans = (await conns[0].query('SELECT name, generic_plans, custom_plans FROM pg_prepared_statements')).rows
      .map((r) => `${r.name.replace(/^.*?(claim|complete|a1_claim|a1_complete)$/, '$1')} ${r.custom_plans} custom ${r.generic_plans} generic`)
      .join(', ');
    for (const c of conns) c.release();
    await store.close();
    await sleep(500);
    const after = await stats();
    const updates = after.upd - before.upd;
    return {
      variant,
      jobs: moved,
      claimUs: +(claimNs / 1000 / moved).toFixed(1),
      completeUs: +(completeNs / 1000 / moved).toFixed(1),
      backendCpuUs: +(cpu / moved).toFixed(1),
      ...(clients === 1 ? { claimCpuUs: +(claimCpu / moved).toFixed(1), completeCpuUs: +(completeCpu / moved).toFixed(1) } : {}),
      jobsPerS: Math.round(moved / elapsedS),
      walB: Math.round(wal / moved),
      heapBytesPerJob: Math.round(heap / jobs),
      hot: updates > 0 ? +((after.hot - before.hot) / updates).toFixed(2) : null,
      claimsLeft: left,
      plans,
    };
  } finally {
    await store.close().catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

try {
  for (let r = 0; r < rounds; r++) {
    for (const variant of r % 2 === 0 ? variants : [...variants].reverse()) console.log(JSON.stringify(await round(variant)));
  }
} finally {
  await admin.end();
}
