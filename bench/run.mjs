/**
 * The benchmark's orchestrator: `npm run bench` (from the repository root)
 * or `node run.mjs [options]` (from bench/).
 *
 *   --quick              short run (fewer jobs, 10-s lateness, 2 rounds): a few minutes
 *   --rounds N           rounds of every scenario (default 3; quick: 2)
 *   --adapters a,b       only these adapters (see adapters/index.mjs)
 *   --scenarios x,y      only these scenarios (enqueue-batch, enqueue-one, drain-c10,
 *                        drain-c50, latency, schedule, backlog, dashboard, metrics-cost)
 *   --backlog-sizes a,b  queued jobs of the backlog scenario (default 10000,100000,1000000;
 *                        quick 10000,100000; or BENCH_BACKLOG_SIZES)
 *   --backlog-rounds N   rounds of the backlog scenario (default 1: its 1M runs take minutes;
 *                        graphile-worker's with a held snapshot 4-6 min)
 *   --dashboard-jobs N   jobs loaded for the dashboard scenario (default 1000000; quick 100000);
 *                        `--scenarios dashboard` runs it alone (dashboard.mjs, ~4 min at 1M)
 *   --jobs N             jobs of the enqueue and drain scenarios (default 20000; quick 5000)
 *   --sequential-schedule  run the lateness scenario one adapter at a time
 *                        (default: the adapters of one round run side by side)
 *   --help               print this
 *
 * Only the memory store's drain, for instance:
 *   node run.mjs --adapters nestjs-scheduler-memory --scenarios drain-c10,drain-c50
 *
 * Every measurement is a fresh child process (scenario.mjs) with its own
 * schema or queue name; the adapters are interleaved (A B C … A B C …).
 * Writes results/<timestamp>.json, results/<timestamp>.md and results/latest.md
 * (results/latest-quick.md for --quick runs).
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ADAPTER_INFO } from './adapters/index.mjs';
import { backlogMarkdown, backlogSteps, flatness, parseSizes } from './backlog-report.mjs';
import { dashboardMarkdown } from './dashboard-report.mjs';
import { costTable } from './metrics-cost-report.mjs';
import { BENCH_DIR, ROOT_DIR, median } from './common.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    adapters: { type: 'string' },
    scenarios: { type: 'string' },
    jobs: { type: 'string' },
    'backlog-sizes': { type: 'string' },
    'backlog-rounds': { type: 'string' },
    'dashboard-jobs': { type: 'string' },
    'sequential-schedule': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  console.log(
    source
      .slice(source.indexOf('/**') + 3, source.indexOf('*/'))
      .replace(/^ \* ?/gm, '')
      .trim(),
  );
  process.exit(0);
}
const quick = values.quick;
const rounds = Number(values.rounds ?? (quick ? 2 : 3));
const jobs = Number(values.jobs ?? (quick ? 5000 : 20_000));
const latencyJobs = quick ? 150 : 500;
const scheduleSeconds = quick ? 10 : 60;
const backlogRounds = Number(values['backlog-rounds'] ?? 1);
const dashboardJobs = Number(values['dashboard-jobs'] ?? (quick ? 100_000 : 1_000_000));
const backlogSizes = parseSizes(values['backlog-sizes'] ?? process.env.BENCH_BACKLOG_SIZES ?? (quick ? '10000,100000' : '10000,100000,1000000'));

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BENCH_DB = 'nestjs_scheduler_bench';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHILD_TIMEOUT_MS = 10 * 60_000;
// A 1M backlog drained under a held snapshot ran for 6-11 min before the claim cursor.
const BACKLOG_TIMEOUT_MS = 40 * 60_000;

/** What each metric means and which way is better. */
const METRICS = {
  jobsPerSec: { label: 'jobs/s', better: 'higher', digits: 0 },
  cpuUsPerJob: { label: 'CPU µs/job', better: 'lower', digits: 1 },
  peakRssMB: { label: 'peak RSS MB', better: 'lower', digits: 0 },
  setupRssMB: { label: 'RSS after setup MB', better: 'lower', digits: 0 },
  pgCpuUsPerJob: { label: 'PostgreSQL CPU µs/job', better: 'lower', digits: 1 },
  redisCpuUsPerJob: { label: 'Redis CPU µs/job', better: 'lower', digits: 1 },
  commitsPerJob: { label: 'commits/job', better: 'lower', digits: 3 },
  walBytesPerJob: { label: 'WAL B/job', better: 'lower', digits: 0 },
  drainPgCpuUsPerJob: { label: 'PostgreSQL CPU µs/job, whole drain', better: 'lower', digits: 1 },
  seconds: { label: 'window s', better: 'lower', digits: 2 },
  p50: { label: 'p50 ms', better: 'lower', digits: 2 },
  p95: { label: 'p95 ms', better: 'lower', digits: 2 },
  p99: { label: 'p99 ms', better: 'lower', digits: 2 },
  max: { label: 'max ms', better: 'lower', digits: 2 },
};

const PLAN = [
  {
    id: 'enqueue-batch',
    scenario: 'enqueue-batch',
    title: `Bulk enqueue, batch API (${jobs} jobs in calls of 1000)`,
    flags: ['--jobs', jobs, '--batch-size', 1000],
    metrics: ['jobsPerSec', 'cpuUsPerJob'],
  },
  {
    id: 'enqueue-one',
    scenario: 'enqueue-one',
    title: `Enqueue one at a time (${jobs} awaited calls)`,
    flags: ['--jobs', jobs],
    metrics: ['jobsPerSec', 'cpuUsPerJob'],
  },
  {
    id: 'drain-c10',
    scenario: 'drain',
    title: `Drain ${jobs} queued no-op jobs, concurrency 10`,
    flags: ['--jobs', jobs, '--concurrency', 10],
    metrics: ['jobsPerSec', 'peakRssMB', 'setupRssMB', 'cpuUsPerJob', 'pgCpuUsPerJob', 'redisCpuUsPerJob', 'commitsPerJob', 'walBytesPerJob'],
  },
  {
    id: 'drain-c50',
    scenario: 'drain',
    title: `Drain ${jobs} queued no-op jobs, concurrency 50`,
    flags: ['--jobs', jobs, '--concurrency', 50],
    metrics: ['jobsPerSec', 'peakRssMB', 'setupRssMB', 'cpuUsPerJob', 'pgCpuUsPerJob', 'redisCpuUsPerJob', 'commitsPerJob', 'walBytesPerJob'],
  },
  {
    id: 'latency',
    scenario: 'latency',
    title: `Latency enqueue → handler start (${latencyJobs} jobs, 20 ms apart, idle worker, concurrency 10)`,
    flags: ['--jobs', latencyJobs, '--interval', 20, '--concurrency', 10],
    metrics: ['p50', 'p95', 'p99', 'max'],
  },
  {
    id: 'schedule',
    scenario: 'schedule',
    title: `Lateness of an every-second schedule over ${scheduleSeconds} s (start − planned time)`,
    flags: ['--duration', scheduleSeconds],
    metrics: ['p50', 'p99', 'max'],
    parallel: !values['sequential-schedule'],
  },
  ...backlogSteps(backlogSizes),
];

const allAdapters = Object.keys(ADAPTER_INFO);
const adapters = values.adapters ? values.adapters.split(',').map((s) => s.trim()) : allAdapters;
for (const a of adapters) if (!ADAPTER_INFO[a]) throw new Error(`unknown adapter ${a} (known: ${allAdapters.join(', ')})`);
const plan = values.scenarios ? PLAN.filter((p) => values.scenarios.split(',').some((x) => x === p.id || x === p.group)) : PLAN;
// The dashboard scenario is one process of its own (dashboard.mjs), not a step per adapter.
const runDashboard = !values.scenarios || values.scenarios.split(',').includes('dashboard');
// So is the metrics' cost (issue #18: metrics-cost.mjs, every variant in one process).
const runMetricsCost = !values.scenarios || values.scenarios.split(',').includes('metrics-cost');
const isBacklog = (step) => step.group === 'backlog';
const roundsOf = (step) => (isBacklog(step) ? backlogRounds : rounds);

const log = (...args) => console.error(...args);

// ── preflight ───────────────────────────────────────────────────────────

async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-run' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A dedicated database, so that its commit counter sees the benchmark and nothing else. */
async function benchDatabaseUrl() {
  if (process.env.BENCH_DATABASE_URL) return process.env.BENCH_DATABASE_URL;
  await withClient(ADMIN_URL, async (c) => {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [BENCH_DB]);
    if (rowCount === 0) await c.query(`CREATE DATABASE ${BENCH_DB}`);
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${BENCH_DB}`;
  return url.toString();
}

/** Drops schemas left by runs that crashed (only the bench's own prefixes). */
async function sweepSchemas(url) {
  await withClient(url, async (c) => {
    const { rows } = await c.query(`SELECT nspname FROM pg_namespace WHERE nspname ~ '^bench_(ns|gw|pb|bq)_'`);
    for (const { nspname } of rows) await c.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  });
}

/** Removes the SQLite adapter's temporary directories left by runs that crashed. */
function sweepSqliteFiles() {
  for (const name of readdirSync(os.tmpdir())) {
    if (name.startsWith('bench-ns-sqlite-')) rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

async function redisInfo() {
  const { Redis } = await import('ioredis');
  const u = new URL(REDIS_URL);
  const redis = new Redis({ host: u.hostname, port: Number(u.port || 6379), lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    const info = await redis.info('server');
    // Keys of crashed earlier runs (BullMQ's queues are named bench_<id>; our Redis store's prefixes bench_ns_<id>).
    for (const pattern of ['bull:bench_*', '{bench_ns_*']) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    }
    return { version: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown' };
  } catch (error) {
    return { error: error.message };
  } finally {
    redis.disconnect();
  }
}

async function postgresSettings(url) {
  return withClient(url, async (c) => {
    const { rows } = await c.query(
      `SELECT name, current_setting(name) AS value FROM unnest(ARRAY['server_version','synchronous_commit','shared_buffers','wal_level','fsync','full_page_writes','max_connections','autovacuum','max_wal_size','checkpoint_timeout']) AS name`,
    );
    const settings = Object.fromEntries(rows.map((r) => [r.name, r.value]));
    settings.version = (await c.query('SELECT version()')).rows[0].version;
    return settings;
  });
}

function packageVersion(dir) {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function gitDescribe() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT_DIR, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib'], { cwd: ROOT_DIR, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (lib/ has uncommitted changes)` : head;
  } catch {
    return null;
  }
}

// ── running ─────────────────────────────────────────────────────────────

function runChild(adapter, step, env) {
  return new Promise((resolve) => {
    const args = [path.join(BENCH_DIR, 'scenario.mjs'), adapter, step.scenario, ...step.flags.map(String)];
    const child = spawn(process.execPath, args, { cwd: BENCH_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const started = Date.now();
    const timer = setTimeout(() => child.kill('SIGKILL'), isBacklog(step) ? BACKLOG_TIMEOUT_MS : CHILD_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      let result;
      try {
        result = line ? JSON.parse(line.slice('BENCH_RESULT '.length)) : null;
      } catch {
        result = null;
      }
      if (!result) result = { ok: false, adapter, scenario: step.scenario, error: `exit ${code ?? signal}, no result` };
      if (!result.ok && stderr) result.stderr = stderr.slice(-2000);
      result.step = step.id;
      result.wallSeconds = (Date.now() - started) / 1000;
      resolve(result);
    });
  });
}

function describe(result) {
  if (!result.ok) return `FAILED: ${String(result.error).split('\n')[0]}`;
  const m = result.metrics;
  if (m.skipped) return `skipped (${m.skipped})`;
  if (m.jobsPerSec !== undefined) return `${m.jobsPerSec} jobs/s` + (m.commitsPerJob != null ? `, ${m.commitsPerJob} commits/job` : '');
  return `p50 ${m.p50} ms, p99 ${m.p99} ms, max ${m.max} ms`;
}

// ── summary ─────────────────────────────────────────────────────────────

function fmt(x, digits) {
  if (x === null || x === undefined) return '—';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function summarise(runs) {
  const summary = {};
  for (const step of plan) {
    summary[step.id] = {};
    for (const adapter of adapters) {
      const mine = runs.filter((r) => r.step === step.id && r.adapter === adapter);
      if (mine.length === 0) continue;
      const ok = mine.filter((r) => r.ok && !r.metrics.skipped);
      const entry = { runs: mine.length, ok: ok.length, failures: mine.filter((r) => !r.ok).map((r) => String(r.error).split('\n')[0]) };
      const skipped = mine.find((r) => r.ok && r.metrics.skipped);
      if (skipped) entry.skipped = skipped.metrics.skipped;
      for (const metric of step.metrics) {
        const xs = ok.map((r) => r.metrics[metric]).filter((x) => typeof x === 'number');
        if (xs.length) entry[metric] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), values: xs };
      }
      summary[step.id][adapter] = entry;
    }
  }
  return summary;
}

/** The best median among `candidates` for `metric` (highest for ↑ metrics, lowest otherwise), or null. */
function bestOf(bySteps, candidates, metric) {
  const { better } = METRICS[metric];
  let best = null;
  for (const peer of candidates) {
    const v = bySteps[peer]?.[metric]?.median;
    if (v === undefined || v === null) continue;
    if (best === null || (better === 'higher' ? v > best.value : v < best.value)) best = { peer, value: v };
  }
  return best;
}

/**
 * Each of our figures as a ratio to the best peer's median in the same run,
 * and to the best PostgreSQL-backed peer's (the like-for-like comparison for
 * the PostgreSQL store).
 */
function ratios(summary) {
  const out = {};
  const peers = adapters.filter((a) => !ADAPTER_INFO[a].ours);
  const pgPeers = peers.filter((a) => ADAPTER_INFO[a].backend === 'postgres');
  for (const step of plan.filter((p) => !isBacklog(p))) {
    const bySteps = summary[step.id];
    for (const ours of adapters.filter((a) => ADAPTER_INFO[a].ours)) {
      for (const metric of step.metrics) {
        const value = bySteps[ours]?.[metric]?.median;
        if (value === undefined || value === null) continue;
        const best = bestOf(bySteps, peers, metric);
        if (!best) continue;
        const bestPg = bestOf(bySteps, pgPeers, metric);
        out[`${ours}|${step.id}|${metric}`] = {
          ours,
          step: step.id,
          metric,
          value,
          better: METRICS[metric].better,
          bestPeer: best.peer,
          bestValue: best.value,
          ratio: best.value === 0 ? null : value / best.value,
          bestPostgresPeer: bestPg?.peer ?? null,
          bestPostgresValue: bestPg?.value ?? null,
          ratioPostgres: bestPg && bestPg.value !== 0 ? value / bestPg.value : null,
        };
      }
    }
  }
  return out;
}

function markdown(report) {
  const { summary, ratio } = report;
  const lines = [];
  const schedulesSection = () => {
    const s = report.schedules;
    if (!s) return;
    lines.push('## 10,000 registered schedules (nestjs-scheduler, memory store)');
    lines.push('');
    lines.push(
      `Bootstrap with ${s.schedules.toLocaleString('en-US')} \`@Scheduled\` methods (discovery, validation, compiling every schedule, loading the planner): **${s.bootstrapMs} ms**. ` +
        `Idle CPU over ${s.idleSeconds} s between ticks (after ${s.settleSeconds} s to settle): **${s.idleCpuPercent} %** of one core.`,
    );
    lines.push('');
  };
  const layoutSection = () => {
    const l = report.layout;
    if (!l) return;
    lines.push(`## PostgreSQL statements on their own (nestjs-scheduler, ${l.jobs.toLocaleString('en-US')} jobs, ${l.batch} a statement)`);
    lines.push('');
    lines.push(
      `Claim then complete in a loop on one connection (\`bench/layout.mjs\`), per job as the client sees it: claim **${l.claimUsPerJob} µs**, ` +
        `completion **${l.completeUsPerJob} µs**, WAL **${l.walBytesPerJob} B**; ${l.hotShare === null ? 'no update counted' : `${Math.round(l.hotShare * 100)} % of the jobs table's updates HOT`}.`,
    );
    lines.push('');
    const r = l.retention;
    if (r?.lifeCpuUsPerJob != null) {
      lines.push(
        `Keeping that history, as the server backend's CPU a job: the claim and completion **${r.lifeCpuUsPerJob} µs**, \`VACUUM\` after them ${r.vacuumAfterDrainCpuUsPerJob} µs; ` +
          `pruned once expired (the leader's statement, 10,000 a batch) **${r.pruneCpuUsPerJob} µs** (${r.pruneWalBytesPerJob} B of WAL), \`VACUUM\` after it ${r.vacuumAfterPruneCpuUsPerJob} µs; ` +
          `a \`DROP TABLE\` of the same rows (a time partition dropped whole) ${r.partitionDropCpuUsPerJob} µs.`,
      );
      lines.push('');
    }
  };
  const retainedSection = () => {
    const r = report.retained;
    if (!r) return;
    lines.push(`## Heap kept per job (nestjs-scheduler, memory store, ${r.jobs.toLocaleString('en-US')} jobs)`);
    lines.push('');
    lines.push(
      `Heap growth after forced full collections ÷ jobs (\`bench/retained.mjs\`): **${r.store.retainedBytesPerJob} B** a completed job kept as history ` +
        `(${r.store.queuedBytesPerJob} B a queued one), through the store's API; **${r.module.retainedBytesPerJob} B** a completed job in a running application.`,
    );
    lines.push('');
  };
  lines.push(`# nestjs-scheduler benchmark — ${report.startedAt}`);
  lines.push('');
  lines.push(
    `${report.options.quick ? '**Quick run** (`--quick`): fewer jobs and a 10-s lateness window; indicative only. ' : ''}` +
      `${report.options.rounds} round(s)${report.backlog ? ` (backlog: ${report.options.backlogRounds})` : ''}, each measurement in a fresh process, adapters interleaved; ` +
      `figures are the **median (min–max)** over the rounds. Total time ${Math.round(report.durationSeconds)} s.`,
  );
  lines.push('');
  lines.push('## Machine');
  lines.push('');
  const m = report.machine;
  lines.push(`- CPU: ${m.cpuModel}, ${m.cores} cores; memory ${m.memoryGiB} GiB; ${m.os}`);
  if (m.loadAverage) lines.push(`- Load average (1/5/15 min): ${m.loadAverage.start.join(' / ')} at the start, ${m.loadAverage.end.join(' / ')} at the end`);
  lines.push(
    `- Node ${m.node}; nestjs-scheduler ${report.versions['nestjs-scheduler']} at ${report.versions.git ?? '?'} (dist built ${report.versions.distBuiltAt}); ` +
      Object.entries(report.versions)
        .filter(([k]) => !['nestjs-scheduler', 'git', 'distBuiltAt'].includes(k))
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
  );
  const p = report.postgres;
  lines.push(
    `- PostgreSQL ${p.server_version}: synchronous_commit=${p.synchronous_commit}, fsync=${p.fsync}, shared_buffers=${p.shared_buffers}, wal_level=${p.wal_level}, full_page_writes=${p.full_page_writes}, autovacuum=${p.autovacuum}; database \`${report.database}\``,
  );
  lines.push(`- Redis ${report.redis.version ?? `unavailable (${report.redis.error})`}`);
  lines.push('');
  for (const step of plan.filter((p) => !isBacklog(p))) {
    lines.push(`## ${step.title}`);
    lines.push('');
    lines.push(`| library | ${step.metrics.map((k) => `${METRICS[k].label} (${METRICS[k].better === 'higher' ? '↑' : '↓'})`).join(' | ')} |`);
    lines.push(`|---|${step.metrics.map(() => '---:').join('|')}|`);
    for (const adapter of adapters) {
      const e = summary[step.id]?.[adapter];
      if (!e) continue;
      const name = ADAPTER_INFO[adapter].ours ? `**${ADAPTER_INFO[adapter].label}**` : ADAPTER_INFO[adapter].label;
      if (e.skipped) {
        lines.push(
          `| ${name} | skipped: ${e.skipped} |${step.metrics
            .slice(1)
            .map(() => ' |')
            .join('')}`,
        );
        continue;
      }
      if (e.ok === 0) {
        lines.push(
          `| ${name} | failed: ${e.failures[0] ?? '?'} |${step.metrics
            .slice(1)
            .map(() => ' |')
            .join('')}`,
        );
        continue;
      }
      const cells = step.metrics.map((k) => {
        const s = e[k];
        if (!s) return 'n/a';
        const d = METRICS[k].digits;
        return s.min === s.max ? fmt(s.median, d) : `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})`;
      });
      lines.push(`| ${name} | ${cells.join(' | ')} |${e.failures.length ? ` (${e.failures.length} failed run(s))` : ''}`);
    }
    lines.push('');
  }
  if (report.backlog) lines.push(...backlogMarkdown(report.backlog, ADAPTER_INFO, fmt, report.options.backlogRounds));
  lines.push('## nestjs-scheduler against the best peer');
  lines.push('');
  lines.push(
    'Each figure is our median divided by the best peer median of the same run (best = highest jobs/s, lowest everything else), ' +
      'then by the best PostgreSQL-backed peer. For jobs/s above 1.00× is better; for every other metric below 1.00× is better.',
  );
  lines.push('');
  lines.push('| scenario | metric | ours | value | best peer (value) | ratio | best PostgreSQL peer (value) | ratio |');
  lines.push('|---|---|---|---:|---|---:|---|---:|');
  const x = (r) => (r === null ? '—' : `${r.toFixed(2)}×`);
  for (const r of Object.values(ratio)) {
    const d = METRICS[r.metric].digits;
    const pgPeer = r.bestPostgresPeer ? `${ADAPTER_INFO[r.bestPostgresPeer].label} (${fmt(r.bestPostgresValue, d)})` : '—';
    lines.push(
      `| ${r.step} | ${METRICS[r.metric].label} | ${ADAPTER_INFO[r.ours].label} | ${fmt(r.value, d)} | ${ADAPTER_INFO[r.bestPeer].label} (${fmt(r.bestValue, d)}) | ${x(r.ratio)} | ${pgPeer} | ${x(r.ratioPostgres)} |`,
    );
  }
  lines.push('');
  const failures = report.runs.filter((r) => !r.ok);
  if (failures.length) {
    lines.push('## Failed runs');
    lines.push('');
    for (const f of failures) lines.push(`- ${f.step} / ${f.adapter}: ${String(f.error).split('\n')[0]}`);
    lines.push('');
  }
  lines.push('See bench/README.md for what each scenario measures and its caveats.');
  lines.push('');
  schedulesSection();
  layoutSection();
  retainedSection();
  if (report.metricsCost) {
    const c = report.metricsCost;
    lines.push('## Metrics cost (nestjs-scheduler, issue #18)');
    lines.push('');
    if (!c.cases) lines.push(`Failed: ${c.error}`);
    else {
      lines.push(
        `\`bench/metrics-cost.mjs\`: the variants' applications side by side in one process, their drains interleaved after ${c.warmup} warm-up round(s); ` +
          `CPU of the main thread over each drain (${c.measure}), each drain paired with the no-SDK drain of its round. ` +
          '"Metrics off" runs the same code as "no SDK": its interval is the noise floor.',
      );
      lines.push('');
      for (const one of c.cases) lines.push(costTable(one), '');
    }
  }
  if (report.dashboard) lines.push(...dashboardMarkdown(report.dashboard, fmt));
  return lines.join('\n');
}

// ── main ────────────────────────────────────────────────────────────────

async function main() {
  if (!existsSync(path.join(ROOT_DIR, 'dist', 'lib', 'index.js'))) {
    throw new Error('dist/lib/index.js is missing: run "npm run build" at the repository root (npm run bench does it)');
  }
  const started = Date.now();
  const loadAtStart = os.loadavg();
  // What is measured is the build in ../dist as it is now: record it before the first run.
  const git = gitDescribe();
  const distBuiltAt = statSync(path.join(ROOT_DIR, 'dist', 'lib', 'index.js')).mtime.toISOString();
  const databaseUrl = await benchDatabaseUrl();
  await sweepSchemas(databaseUrl);
  sweepSqliteFiles();
  const postgres = await postgresSettings(databaseUrl);
  const redis = await redisInfo();
  const env = { ...process.env, BENCH_DATABASE_URL: databaseUrl, BENCH_REDIS_URL: REDIS_URL };

  const usable = adapters.filter((a) => !(ADAPTER_INFO[a].backend === 'redis' && redis.error));
  if (usable.length < adapters.length) log(`Redis unavailable (${redis.error}): skipping ${adapters.filter((a) => !usable.includes(a)).join(', ')}`);

  // An adapter runs a step when it can (schedules) and when it is one of its scenarios (variants list theirs).
  const runsStep = (a, step) =>
    (step.scenario !== 'schedule' || ADAPTER_INFO[a].schedule) &&
    (step.scenario !== 'backlog' || ADAPTER_INFO[a].backlog) &&
    (!ADAPTER_INFO[a].scenarios || ADAPTER_INFO[a].scenarios.includes(step.scenario));
  const total = plan.reduce((n, step) => n + roundsOf(step) * usable.filter((a) => runsStep(a, step)).length, 0);
  const running = usable.filter((a) => plan.some((step) => runsStep(a, step)));
  log(
    `nestjs-scheduler bench: ${plan.length} step(s) × ${running.length} adapter(s) × ${rounds} round(s) (backlog: ${backlogRounds}) = ${total} runs${quick ? ' (quick)' : ''}`,
  );
  const runs = [];
  let done = 0;
  for (const step of plan) {
    const stepAdapters = usable.filter((a) => runsStep(a, step));
    // Peers without an every-second schedule are reported as skipped, with the reason, without a process.
    if (step.scenario === 'schedule') {
      for (const a of usable.filter((x) => !ADAPTER_INFO[x].schedule && !ADAPTER_INFO[x].scenarios)) {
        runs.push({ ok: true, adapter: a, step: step.id, scenario: step.scenario, metrics: { skipped: ADAPTER_INFO[a].note ?? 'no every-second schedule' } });
      }
    }
    for (let round = 1; round <= roundsOf(step); round++) {
      const report = (r) => {
        runs.push(r);
        done++;
        log(`[${done}/${total}] ${step.id} r${round} ${ADAPTER_INFO[r.adapter].label}: ${describe(r)} (${r.wallSeconds.toFixed(1)} s)`);
      };
      if (step.parallel) {
        const results = await Promise.all(stepAdapters.map((a) => runChild(a, step, env)));
        results.forEach(report);
      } else {
        for (const a of stepAdapters) report(await runChild(a, step, env));
      }
    }
  }
  await sweepSchemas(databaseUrl);
  sweepSqliteFiles();

  // 10,000 registered schedules: bootstrap time and idle CPU (ours only; memory store).
  log('schedules: 10,000 registered schedules (bootstrap, idle CPU)');
  const schedules = JSON.parse(
    execFileSync(process.execPath, [path.join(BENCH_DIR, 'schedules.mjs'), '--idle', quick ? '5' : '10'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1),
  );

  // Heap the memory store keeps per job (ours only).
  log('retained: heap the memory store keeps per queued and completed job');
  const retained = JSON.parse(
    execFileSync(process.execPath, ['--expose-gc', path.join(BENCH_DIR, 'retained.mjs'), '--jobs', quick ? '20000' : '100000'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1),
  );

  // The PostgreSQL store's claim and completion statements alone (ours only).
  log('layout: the PostgreSQL claim and completion statements on their own');
  const layout = JSON.parse(
    execFileSync(process.execPath, [path.join(BENCH_DIR, 'layout.mjs'), '--jobs', quick ? '10000' : '20000'], {
      encoding: 'utf8',
      env: { ...process.env, BENCH_DATABASE_URL: databaseUrl },
    })
      .trim()
      .split('\n')
      .at(-1),
  );

  // What metrics with an SDK cost a drain (issue #18, ours only): main-thread CPU, paired drains in one process.
  let metricsCost = null;
  if (runMetricsCost) {
    log('metrics-cost: drains with and without an SDK, side by side in one process');
    const args = quick
      ? ['--stores', 'memory', '--concurrency', '10', '--processes', '2', '--rounds', '12', '--reference-processes', '0']
      : ['--processes', '3', '--rounds', '20'];
    try {
      const out = execFileSync(process.execPath, [path.join(BENCH_DIR, 'metrics-cost.mjs'), ...args, '--json'], {
        encoding: 'utf8',
        env: { ...process.env, BENCH_DATABASE_URL: databaseUrl },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      metricsCost = JSON.parse(out.trim().split('\n').at(-1));
    } catch (error) {
      metricsCost = { ok: false, error: String(error.message).split('\n')[0] };
    }
  }

  // The dashboard's budget (ours only, PostgreSQL): route latency with 1M jobs, statements while idle.
  let dashboard = null;
  if (runDashboard) {
    log(`dashboard: ${dashboardJobs} jobs, every read route, idle statements with SSE streams open`);
    try {
      const out = execFileSync(process.execPath, [path.join(BENCH_DIR, 'dashboard.mjs'), '--jobs', String(dashboardJobs), '--no-write'], {
        encoding: 'utf8',
        env: { ...process.env, BENCH_DATABASE_URL: databaseUrl },
        stdio: ['ignore', 'pipe', 'inherit'],
        timeout: BACKLOG_TIMEOUT_MS,
      });
      dashboard = JSON.parse(out.trim().split('\n').at(-1));
    } catch (error) {
      dashboard = { ok: false, error: String(error.message).split('\n')[0] };
    }
  }

  const summary = summarise(runs);
  const report = {
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    options: {
      quick,
      rounds,
      jobs,
      latencyJobs,
      scheduleSeconds,
      backlogSizes,
      backlogRounds,
      adapters: usable,
      scenarios: plan.map((p) => p.id),
      parallelSchedule: !values['sequential-schedule'],
    },
    machine: {
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      // Other work on a shared machine moves every figure: the 1/5/15-min load averages at start and end.
      loadAverage: { start: loadAtStart.map((x) => Number(x.toFixed(2))), end: os.loadavg().map((x) => Number(x.toFixed(2))) },
    },
    versions: {
      'nestjs-scheduler': packageVersion(ROOT_DIR),
      git,
      distBuiltAt,
      ...Object.fromEntries(['graphile-worker', 'pg-boss', 'bullmq', 'pg', 'ioredis'].map((p) => [p, packageVersion(path.join(BENCH_DIR, 'node_modules', p))])),
    },
    database: new URL(databaseUrl).pathname.slice(1),
    postgres,
    redis,
    summary,
    ratio: ratios(summary),
    backlog: plan.some(isBacklog) ? flatness(summary, plan.filter(isBacklog), usable) : null,
    schedules,
    retained,
    layout,
    metricsCost,
    dashboard,
    runs,
  };
  const md = markdown(report);
  const dir = path.join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  writeFileSync(path.join(dir, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(dir, `${stamp}.md`), md);
  // A quick run is indicative only, and a run of some scenarios or adapters is partial: neither replaces the latest full run.
  const partial = Boolean(values.scenarios || values.adapters);
  const latest = quick ? 'latest-quick.md' : partial ? null : 'latest.md';
  if (latest) writeFileSync(path.join(dir, latest), md);
  process.stdout.write(`\n${md}\n`);
  log(`results: bench/results/${stamp}.json, bench/results/${stamp}.md${latest ? `, bench/results/${latest}` : ''} (${Math.round(report.durationSeconds)} s)`);
  const failed = runs.filter((r) => !r.ok).length;
  if (failed) log(`${failed} run(s) failed: see the report`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
