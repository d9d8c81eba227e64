/**
 * The dashboard's budget (issue #19): API p95 < 200 ms with 1M jobs on
 * PostgreSQL, 0 queries while idle, one shared stats read per
 * `statsCacheMs` whatever the number of tabs.
 *
 *   node bench/dashboard.mjs [--jobs 1000000] [--requests 200] [--clients 10]
 *                            [--sse 20] [--idle 30] [--burst-clients 50]
 *                            [--schema NAME] [--keep] [--no-write]
 *
 * Loads --jobs jobs of mixed states into a fresh schema (dashboard-app.mjs),
 * starts a real Nest HTTP app (SchedulerModule on that schema +
 * SchedulerDashboardModule, default options) in this process, then:
 * (a) each read route, --requests requests one at a time, then --requests
 *     spread over --clients clients at once (HTTP clients in a worker thread;
 *     a route stops after 30 s of a pass, however many requests that was);
 * (b) every SQL statement the app sends (the pg client of the repository's
 *     node_modules is wrapped: exact), over --idle s with no client, then
 *     --idle s with --sse streams open on api/events and nothing else;
 *     statements run inside an HTTP request (or a timer it set) are the
 *     dashboard's, told apart by an AsyncLocalStorage set by a middleware;
 * (c) --burst-clients clients asking api/overview in a loop for three
 *     statsCacheMs periods: the stats reads must be one per period.
 * `--schema` reuses a loaded schema (no load; with --keep, kept after).
 * Writes results/<timestamp>-dashboard.json (not with --no-write) and prints
 * the result as one JSON line on stdout; progress goes to stderr.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { BENCH_DIR, importFromRoot, percentile, runId, sleep, sql } from './common.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '200' },
    clients: { type: 'string', default: '10' },
    sse: { type: 'string', default: '20' },
    idle: { type: 'string', default: '30' },
    'burst-clients': { type: 'string', default: '50' },
    schema: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});
const jobs = Number(values.jobs);
const requests = Number(values.requests);
const clients = Number(values.clients);
const sseCount = Number(values.sse);
const idleSeconds = Number(values.idle);
const burstClients = Number(values['burst-clients']);
const BUDGET_MS = 200;
const log = (...args) => console.error(...args);
const round = (x, d = 2) => (x === null || x === undefined ? null : Number(x.toFixed(d)));

// ── every statement the app sends, and on whose behalf ─────────────────
const als = new AsyncLocalStorage();
const statements = [];
const { default: pgRoot } = await importFromRoot('pg');
const query = pgRoot.Client.prototype.query;
let schemaPattern = null;
pgRoot.Client.prototype.query = function (config, params, callback) {
  const text = typeof config === 'string' ? config : config?.text;
  if (text !== undefined) statements.push({ at: performance.timeOrigin + performance.now(), by: als.getStore() ?? 'scheduler', kind: kindOf(text) });
  return query.call(this, config, params, callback);
};
/** A statement's first words, schema left out: enough to tell the kinds apart. */
function kindOf(text) {
  const flat = text.replace(/\s+/g, ' ').trim();
  return (schemaPattern ? flat.replace(schemaPattern, '') : flat).slice(0, 90);
}
/** The harness's own SQL (bench/node_modules' pg, not wrapped; marked anyway). */
const harness = (fn) => als.run('harness', fn);
const between = (from, to) => statements.filter((s) => s.at >= from && s.at < to);
const now = () => performance.timeOrigin + performance.now();
function tally(list) {
  const by = {};
  const kinds = {};
  for (const s of list) {
    by[s.by] = (by[s.by] ?? 0) + 1;
    const k = `${s.by}: ${s.kind}`;
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  return { total: list.length, by, kinds: Object.fromEntries(Object.entries(kinds).sort((a, b) => b[1] - a[1])) };
}
/** Scans and row writes on the schema's tables, as the server counts them (a backend flushes its counters within ~1-10 s). */
async function tableCounters(schema) {
  const { rows } = await harness(() =>
    sql(
      `SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0)::bigint AS scans, coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint AS writes
       FROM pg_stat_user_tables WHERE schemaname = $1`,
      [schema],
    ),
  );
  return { scans: Number(rows[0].scans), writes: Number(rows[0].writes) };
}

// ── HTTP ────────────────────────────────────────────────────────────────
async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}
function inWorker(data) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(BENCH_DIR, 'dashboard-client.mjs'), { workerData: data });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}
/** `count` SSE streams on api/events; each counts what it receives. */
function openStreams(base, count) {
  const streams = [];
  for (let i = 0; i < count; i++) {
    const s = { bytes: 0, messages: 0, heartbeats: 0, req: null };
    s.req = http.get(`${base}/events`, { headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        s.bytes += chunk.length;
        s.messages += (chunk.match(/^data:/gm) ?? []).length;
        s.heartbeats += (chunk.match(/^: heartbeat/gm) ?? []).length;
      });
    });
    s.req.on('error', () => {});
    streams.push(s);
  }
  return streams;
}

function summary(ms) {
  return { p50: round(percentile(ms, 50)), p95: round(percentile(ms, 95)), p99: round(percentile(ms, 99)), max: round(Math.max(...ms)), n: ms.length };
}

async function main() {
  const { startDashboardApp, loadJobs, drainDue, PAUSED_QUEUE } = await import('./dashboard-app.mjs');
  const schema = values.schema ?? `bench_ns_dash_${runId()}`;
  schemaPattern = new RegExp(`"?${schema}"?\\.`, 'g');
  const result = { scenario: 'dashboard', startedAt: new Date().toISOString(), schema, jobs, clients, machine: machine() };
  let app;
  try {
    if (!values.schema) {
      log(`dashboard: loading ${jobs} jobs into ${schema}`);
      result.load = await loadJobs(schema, jobs, log);
    } else result.load = await drainDue(schema, log);
    const { rows } = await harness(() => sql(`SELECT state, count(*)::int AS n FROM "${schema}".scheduler_jobs GROUP BY state ORDER BY state`));
    result.states = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    result.jobs = rows.reduce((n, r) => n + r.n, 0);
    log(`dashboard: ${JSON.stringify(result.states)}; starting the app`);

    const started = await startDashboardApp(schema, { middleware: (req, res, next) => als.run('dashboard', next) });
    app = started.app;
    const { base, scheduler } = started;
    const config = await getJson(`${base}/config`);
    result.statsCacheMs = config.statsCacheMs;
    await sleep(3000); // boot's own work (election, planning) out of the way

    // Targets of the detail routes and the cursor of page 50.
    const first = async (q) => (await getJson(`${base}/jobs?${q}&limit=1`)).jobs[0]?.id;
    const completedId = await first('queue=mail&state=completed');
    const availableId = await first(`queue=${PAUSED_QUEUE}&state=available`);
    const runId_ = (await getJson(`${base}/workflows?limit=1`)).runs[0]?.id;
    let cursor = null;
    for (let page = 1; page < 50; page++) cursor = (await getJson(`${base}/jobs${cursor ? `?cursor=${cursor}` : ''}`)).nextCursor;
    const routes = [
      ['overview', 'overview'],
      ['queues', 'queues'],
      ['queue (read now)', 'queues/mail'],
      ['jobs, first page', 'jobs'],
      ['jobs, queue + state completed', 'jobs?queue=mail&state=completed'],
      ['jobs, queue + state available', `jobs?queue=${PAUSED_QUEUE}&state=available`],
      ['jobs, state dead', 'jobs?state=dead'],
      ['jobs, state cancelled', 'jobs?state=cancelled'],
      ['jobs, name', 'jobs?name=charge'],
      ['jobs, page 50 (cursor)', `jobs?cursor=${cursor}`],
      ['job detail (completed)', `jobs/${completedId}`],
      ['job detail (available, explained)', `jobs/${availableId}`],
      ['schedules', 'schedules'],
      ['workflows', 'workflows'],
      ['workflow detail', `workflows/${runId_}`],
      ['dead letters', 'dead-letters'],
      ['health', 'health'],
      ['metrics history', 'metrics/history'],
    ].map(([label, p]) => ({ label, url: `${base}/${p}` }));

    // (a) latency, one client then `clients` at once; statements per request from the sequential pass.
    result.routes = {};
    for (const [pass, n] of [
      ['sequential', 1],
      ['concurrent', clients],
    ]) {
      log(`dashboard: ${requests} requests per route, ${n} client(s)`);
      const out = await inWorker({ mode: 'routes', routes, requests, clients: n, warmup: 5, maxSeconds: 30 });
      for (const { label } of routes) {
        const { ms, statuses } = out[label];
        const entry = (result.routes[label] ??= {});
        entry[pass] = { ...summary(ms), statuses };
      }
    }
    for (const { label } of routes) {
      const e = result.routes[label];
      e.p95 = Math.max(e.sequential.p95, e.concurrent.p95);
      e.withinBudget = e.p95 < BUDGET_MS && Object.keys({ ...e.sequential.statuses, ...e.concurrent.statuses }).every((s) => s === '200');
    }
    // Statements per request, one request at a time (the cache of the overview expired first).
    await sleep(config.statsCacheMs);
    result.statementsPerRequest = {};
    for (const { label, url } of routes) {
      const from = now();
      await (await fetch(url)).arrayBuffer();
      result.statementsPerRequest[label] = between(from, now()).filter((s) => s.by === 'dashboard').length;
    }
    // The overview's read behind its cache: the store's queue counts and the health report.
    const reads = { queueStats: [], health: [] };
    for (let i = 0; i < 20; i++) {
      for (const k of Object.keys(reads)) {
        const t0 = performance.now();
        await als.run('dashboard', () => scheduler[k]());
        reads[k].push(performance.now() - t0);
      }
    }
    result.statsRead = { queueStats: summary(reads.queueStats), health: summary(reads.health) };

    // (b) idle: nothing, then `sseCount` open streams and nothing else. An
    // idle backend flushes its table counters within 10 s (PostgreSQL 15):
    // the requests above must not land in the first window.
    await sleep(Math.max(config.statsCacheMs, 11_000));
    result.idle = {};
    for (const [label, k] of [
      ['noClient', 0],
      ['sse', sseCount],
    ]) {
      const streams = openStreams(base, k);
      await sleep(1000);
      log(`dashboard: idle ${idleSeconds} s with ${k} SSE stream(s)`);
      const c0 = await tableCounters(schema);
      const from = now();
      await sleep(idleSeconds * 1000);
      const to = now();
      const c1 = await tableCounters(schema);
      for (const s of streams) s.req.destroy();
      result.idle[label] = {
        streams: k,
        seconds: idleSeconds,
        ...tally(between(from, to)),
        tableScans: c1.scans - c0.scans,
        tableWrites: c1.writes - c0.writes,
        sseBytes: streams.reduce((n, s) => n + s.bytes, 0),
        sseMessages: streams.reduce((n, s) => n + s.messages, 0),
      };
      await sleep(1000);
    }
    const idle = result.idle;
    idle.dashboardStatements = idle.sse.by.dashboard ?? 0;
    idle.extraStatementsWithSse = idle.sse.total - idle.noClient.total;

    // (c) `burstClients` tabs asking the overview for three cache periods.
    await sleep(config.statsCacheMs);
    const seconds = (3 * config.statsCacheMs + 500) / 1000;
    log(`dashboard: ${burstClients} clients on api/overview for ${seconds} s`);
    const from = now();
    const burst = await inWorker({ mode: 'burst', url: `${base}/overview`, clients: burstClients, seconds });
    const during = between(from, now()).filter((s) => s.by === 'dashboard');
    // The queue counts: the overview's snapshot, and the health report's lag check (its own 5-s cache).
    const countReads = during.filter((s) => /sum\(available\)/.test(s.kind));
    result.burst = {
      clients: burstClients,
      seconds,
      ...burst,
      periods: Math.ceil((seconds * 1000) / config.statsCacheMs),
      queueCountReads: countReads.length,
      queueCountReadsAtMs: countReads.map((s) => Math.round(s.at - from)),
      dashboardStatements: tally(during),
    };
    result.ok = true;
  } finally {
    await app?.close();
    if (!values.keep) await harness(() => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  }
  result.finishedAt = new Date().toISOString();
  return result;
}

function machine() {
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
}

main().then(
  (result) => {
    if (!values['no-write']) {
      const dir = path.join(BENCH_DIR, 'results');
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${result.startedAt.replace(/[:.]/g, '-')}-dashboard.json`);
      writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      log(`results: ${path.relative(BENCH_DIR, file)}`);
    }
    process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
