/**
 * Helpers shared by the benchmark's scenario runner and adapters.
 * Nothing here is part of the library.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = path.resolve(BENCH_DIR, '..');

export const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Imports a package the way the library's build output sees it (from the top-level node_modules). */
const rootRequire = createRequire(path.join(ROOT_DIR, 'package.json'));
export async function importFromRoot(specifier) {
  return import(pathToFileURL(rootRequire.resolve(specifier)).href);
}
export function rootDist(rel) {
  return pathToFileURL(path.join(ROOT_DIR, 'dist', rel)).href;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fn` every `everyMs` until it returns true; throws after `timeoutMs`. */
export async function waitFor(fn, { everyMs = 10, timeoutMs = 120_000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Wall-clock time (epoch ms) with sub-millisecond resolution, on the same
 * clock as `Date.now()`. `performance.timeOrigin + performance.now()` is
 * not: it ran 0.1 to 2.7 ms ahead of `Date.now()` here, varying by process,
 * which biased every lateness (planned times are `Date` values). The
 * offset is taken once, at the edge of a `Date.now()` millisecond.
 */
let wallOffset = null;
export function wallNow() {
  if (wallOffset === null) {
    const start = Date.now();
    let now = start;
    while (now === start) now = Date.now();
    wallOffset = now - performance.now();
  }
  return performance.now() + wallOffset;
}

/** Nearest-rank percentile of a numeric array (p in 0..100). */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** A short unique id for schema / queue names: letters, digits and `_` only. */
export function runId() {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Database-side counters around a measured window: commits of the bench
 * database (pg_stat_database.xact_commit) and WAL bytes written by the whole
 * cluster. Backends flush their statistics at transaction end at most once a
 * second and on exit, so `end()` should be called after the library closed its
 * connections; `end()` also waits a little and forces our own flush.
 */
export class PgCounters {
  constructor(url = DATABASE_URL) {
    this.client = new pg.Client({ connectionString: url, application_name: 'bench-counters' });
  }
  async open() {
    await this.client.connect();
    return this;
  }
  async snapshot() {
    const { rows } = await this.client.query(
      `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::bigint AS commits,
              pg_current_wal_lsn()::text AS lsn`,
    );
    return { commits: Number(rows[0].commits), lsn: rows[0].lsn };
  }
  async start() {
    await this.client.query('SELECT pg_stat_clear_snapshot()');
    this.begin = await this.snapshot();
  }
  /**
   * Returns { commits, walBytes } since start(). The commits include the
   * handful of this client's own statements (under 10, negligible per job).
   */
  async end() {
    const { rows } = await this.client.query('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS wal', [this.begin.lsn]);
    await sleep(400); // exited backends flush their statistics on exit; give them a moment
    await this.client.query('SELECT pg_stat_clear_snapshot()');
    const now = await this.snapshot();
    return { commits: now.commits - this.begin.commits, walBytes: Number(rows[0].wal) };
  }
  async close() {
    await this.client.end().catch(() => {});
  }
}

/**
 * CPU time (µs) used so far by every PostgreSQL server process on this
 * machine (backends, WAL writer, checkpointer...), from /proc; `null` when
 * the server is not local or /proc is not there. Children that exited are
 * counted through their parent's cumulative fields.
 */
export function postgresCpuMicros() {
  return serverCpuMicros('postgres');
}

/** The same for the Redis server (`redis-server` processes on this machine), or `null`. */
export function redisCpuMicros() {
  return serverCpuMicros('redis-server');
}

/** CPU nanoseconds of process `pid` on this machine (`/proc/<pid>/schedstat`), or `null` when it is not here (exited, another machine, no /proc). */
export function processCpuNs(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[0]);
  } catch {
    return null;
  }
}

/** CPU time (µs) of every process of this machine whose name starts with `name`, or `null` when there is none (or no /proc). */
function serverCpuMicros(name) {
  let ticks = 0;
  let found = false;
  let pids;
  try {
    pids = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const pid of pids) {
    if (pid.charCodeAt(0) > 57) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    if (!stat.slice(stat.indexOf('(') + 1, close).startsWith(name)) continue;
    const f = stat.slice(close + 2).split(' ');
    // utime, stime, cutime, cstime (fields 14-17 of proc(5)).
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    found = true;
  }
  return found ? (ticks * 1e6) / CLOCK_TICKS_PER_SECOND : null;
}
const CLOCK_TICKS_PER_SECOND = 100;

/** Samples RSS every `everyMs` (process.resourceUsage().maxRSS is the process lifetime peak). */
export class RssSampler {
  constructor(everyMs = 50) {
    this.peak = process.memoryUsage.rss();
    this.timer = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (rss > this.peak) this.peak = rss;
    }, everyMs);
    this.timer.unref();
  }
  stop() {
    clearInterval(this.timer);
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    return this.peak;
  }
}

/** Runs SQL on a short-lived client (setup / teardown). */
export async function sql(text, params = [], url = DATABASE_URL) {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-admin' });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema) {
  await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** One lazily opened connection for the harness's own read-only probes (pending-job counts). */
let probeClient;
export async function probe(text, params = []) {
  if (!probeClient) {
    probeClient = new pg.Client({ connectionString: DATABASE_URL, application_name: 'bench-probe' });
    await probeClient.connect();
  }
  return probeClient.query(text, params);
}
export async function closeProbe() {
  const c = probeClient;
  probeClient = undefined;
  if (c) await c.end().catch(() => {});
}

/** Deletes every key of REDIS_URL matching `pattern` (SCAN, then DEL in pages), on a short-lived connection. */
export async function deleteRedisKeys(pattern, url = REDIS_URL) {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
