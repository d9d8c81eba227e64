/**
 * The backlog scenario (flatness, issue #14): does a job cost the same with
 * 10k, 100k or 1M jobs queued, with and without a session holding a snapshot?
 *
 * The process first runs `warmup` jobs (so it is equally warm at every size),
 * then N jobs are enqueued (batch API, calls of 1,000) with the worker paused,
 * every table of the adapter's schema is vacuumed and analysed (autovacuum
 * would have done it to a backlog that waited; it is off on the reference
 * server) and a CHECKPOINT starts every size from clean buffers. The held
 * variant then opens a session that takes a REPEATABLE READ snapshot and keeps
 * its transaction open until the window ends. The worker drains; the measured
 * window is the same number of jobs at every size, by default the last
 * `jobs` before `reserve` remain queued (`at: 'tail'`): what a job costs once
 * a backlog of N has been drained down, which is where a claim that walks the
 * entries earlier claims left pays. The reserve keeps the look-ahead's claims
 * full inside the window. `at: 'head'` measures right after the first
 * `reserve` jobs instead (the queue's size alone).
 *
 * PostgreSQL CPU comes from /proc/<pid>/schedstat (nanoseconds; the /proc
 * ticks of `postgresCpuMicros` are 10 ms, ±10 % over a sub-second window) of
 * the bench database's backends and the server's background processes
 * (WAL writer, checkpointer…), so other databases' work on a shared server
 * is left out; `pgCpuAllUsPerJob` is the drain scenario's figure (every
 * PostgreSQL process) over the same window.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { DATABASE_URL, closeProbe, postgresCpuMicros, probe, processCpuNs, sql, waitFor } from './common.mjs';
import { startProfile } from './profile.mjs';

const round = (x, digits = 1) => (x === null || x === undefined ? null : Number(x.toFixed(digits)));

/** CPU nanoseconds of every live PostgreSQL process, by pid (postgres is single-threaded). */
function postgresCpuByPid() {
  const out = new Map();
  for (const pid of readdirSync('/proc')) {
    if (pid.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('postgres')) continue;
      const ns = processCpuNs(pid);
      if (ns !== null) out.set(Number(pid), ns);
    } catch {
      // the process exited, or schedstat is not there
    }
  }
  return out;
}

/** Pids of this database's backends and of the server's own processes (no database). */
async function ownServerPids() {
  const { rows } = await probe('SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR datname IS NULL');
  return rows.map((r) => r.pid);
}

/** Vacuums and analyses every table of `schema`, as autovacuum would have done to a backlog that waited. */
async function vacuumSchema(schema) {
  const { rows } = await sql(
    `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
    [schema],
  );
  for (const { t } of rows) await sql(`VACUUM (ANALYZE) ${t}`);
}

/** A session that takes a snapshot and keeps its transaction open (a long report, pg_dump, a lagging replica). */
async function holdSnapshot() {
  const client = new pg.Client({ connectionString: DATABASE_URL, application_name: 'bench-held-snapshot' });
  await client.connect();
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  await client.query('SELECT 1'); // a REPEATABLE READ transaction takes its snapshot at its first query
  const { rows } = await probe('SELECT backend_xmin::text AS xmin FROM pg_stat_activity WHERE pid = $1', [client.processID]);
  if (!rows[0]?.xmin) throw new Error('held snapshot: the session shows no backend_xmin');
  return {
    xmin: rows[0].xmin,
    async release() {
      try {
        await client.query('ROLLBACK');
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * Readings at an edge of a measured span. PostgreSQL is read first at a start
 * and last at an end, so the reads themselves stay outside what they measure.
 */
function mark(edge) {
  const m = {};
  const pgNow = () => Object.assign(m, { pg: postgresCpuByPid(), pgAll: postgresCpuMicros() });
  const nodeNow = () => Object.assign(m, { cpu: process.cpuUsage(), t: performance.now() });
  if (edge === 'start') nodeNow(pgNow());
  else pgNow(nodeNow());
  m.lsn = probe('SELECT pg_current_wal_lsn()::text AS lsn');
  m.pids = ownServerPids();
  return m;
}

/** Per-job figures between two marks. */
async function span(from, to, jobs) {
  const pids = new Set([...(await from.pids), ...(await to.pids)]);
  let pgNs = 0;
  for (const pid of pids) if (to.pg.has(pid)) pgNs += to.pg.get(pid) - (from.pg.get(pid) ?? 0);
  const { rows } = await probe('SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::bigint AS wal', [(await from.lsn).rows[0].lsn, (await to.lsn).rows[0].lsn]);
  const seconds = (to.t - from.t) / 1000;
  return {
    jobsPerSec: round(jobs / seconds, 0),
    seconds: round(seconds, 3),
    cpuUsPerJob: round((to.cpu.user + to.cpu.system - from.cpu.user - from.cpu.system) / jobs),
    pgCpuUsPerJob: round(pgNs / 1000 / jobs),
    pgCpuAllUsPerJob: from.pgAll === null ? null : round((to.pgAll - from.pgAll) / jobs),
    walBytesPerJob: round(Number(rows[0].wal) / jobs, 0),
  };
}

/**
 * `params`: backlog (N queued), jobs (the measured window), at ('tail': the
 * window ends `reserve` jobs before the backlog's end, so the jobs before it
 * are drained first, under the held snapshot if any; 'head': it starts after
 * `reserve` jobs), reserve, warmup (jobs run and finished before the backlog
 * is enqueued, so the process is equally warm at every size), held,
 * concurrency, batchSize. `enqueueAll(adapter, n, batchSize)`.
 */
export async function backlog(adapter, params, enqueueAll) {
  const { backlog: n, jobs, at, reserve, warmup, held, concurrency, batchSize } = params;
  if (adapter.backend !== 'postgres' || !adapter.schema) throw new Error('backlog: PostgreSQL adapters with a schema only');
  if (reserve < 1 || jobs + 2 * reserve > n) throw new Error(`backlog: --jobs ${jobs} + 2 × ${reserve} (reserve) must not exceed --backlog ${n} (reserve ≥ 1)`);
  const first = at === 'head' ? reserve : n - reserve - jobs; // handler calls before the window
  const last = first + jobs;
  let done = 0;
  let target = warmup;
  let reached;
  const marks = {};
  const onJob = () => {
    done++;
    if (target === last) {
      if (done === 1) marks.drain = mark('start');
      if (done === first) marks.start = mark('start');
      if (done === last) marks.end = mark('end');
    }
    if (done === target) reached?.();
  };
  const until = (count, seconds) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backlog: only ${done} of ${count} jobs ran within ${seconds} s`)), seconds * 1000);
      reached = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  await adapter.setup({ role: 'drain', concurrency, onJob });
  if (warmup > 0) {
    await enqueueAll(adapter, warmup, batchSize);
    const warm = until(warmup, 120);
    await adapter.startWorker();
    await warm;
    await waitFor(async () => (await adapter.pending()) === 0, { everyMs: 5, timeoutMs: 60_000, what: 'warm-up acknowledgements' });
    await adapter.pauseWorker();
  }
  done = 0;
  target = last;
  let t = performance.now();
  await enqueueAll(adapter, n, batchSize);
  const enqueueSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  await vacuumSchema(adapter.schema);
  await sql('CHECKPOINT');
  const vacuumSeconds = (performance.now() - t) / 1000;

  const snapshot = held ? await holdSnapshot() : null;
  try {
    const profile = await startProfile();
    const window = until(last, 1800);
    await adapter.startWorker();
    await window;
    await profile?.stop();
  } finally {
    await snapshot?.release();
  }
  const measured = await span(marks.start, marks.end, jobs);
  const drained = await span(marks.drain, marks.end, last - 1);
  await adapter.stop();
  await closeProbe();
  return {
    ...measured,
    drainCpuUsPerJob: drained.cpuUsPerJob,
    drainPgCpuUsPerJob: drained.pgCpuUsPerJob,
    drainSeconds: drained.seconds,
    enqueueSeconds: round(enqueueSeconds, 2),
    vacuumSeconds: round(vacuumSeconds, 2),
    heldXmin: snapshot?.xmin ?? null,
  };
}
