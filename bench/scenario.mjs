/**
 * One measurement in a fresh process:
 *
 *   node scenario.mjs <adapter> <scenario> [--jobs N] [--concurrency C] [--batch-size B]
 *                     [--interval MS] [--duration S]
 *                     [--backlog N] [--at tail|head] [--reserve R] [--warmup W] [--held]
 *
 * scenarios: enqueue-batch, enqueue-one, drain, latency, schedule, backlog
 * (backlog.mjs: --jobs measured with --backlog N queued, --held: a session
 * keeps a snapshot open).
 * Prints one line `BENCH_RESULT {json}` on stdout (anything else is the
 * libraries' own output) and exits 0, or 1 with `ok: false` on failure.
 * Whatever happens, it deletes its own schema / queue before exiting.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ADAPTERS } from './adapters/index.mjs';
import { PgCounters, closeProbe, percentile, postgresCpuMicros, redisCpuMicros, sleep, waitFor } from './common.mjs';
import { backlog } from './backlog.mjs';
import { startProfile } from './profile.mjs';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    jobs: { type: 'string' },
    concurrency: { type: 'string' },
    'batch-size': { type: 'string' },
    interval: { type: 'string' },
    duration: { type: 'string' },
    backlog: { type: 'string' },
    at: { type: 'string' },
    reserve: { type: 'string' },
    warmup: { type: 'string' },
    held: { type: 'boolean', default: false },
  },
});
const [adapterKey, scenario] = positionals;
if (!ADAPTERS[adapterKey] || !scenario) {
  console.error(`usage: node scenario.mjs <${Object.keys(ADAPTERS).join('|')}> <enqueue-batch|enqueue-one|drain|latency|schedule|backlog> [options]`);
  process.exit(2);
}
const params = {
  jobs: Number(values.jobs ?? { latency: 500, backlog: 8000 }[scenario] ?? 20_000),
  concurrency: Number(values.concurrency ?? 10),
  batchSize: Number(values['batch-size'] ?? 1000),
  interval: Number(values.interval ?? 20),
  duration: Number(values.duration ?? 60),
  ...(scenario === 'backlog' ? backlogParams() : {}),
};

function backlogParams() {
  if (values.at && !['head', 'tail'].includes(values.at)) throw new Error(`--at ${values.at}: head or tail`);
  return {
    backlog: Number(values.backlog ?? 10_000),
    at: values.at ?? 'tail',
    reserve: Number(values.reserve ?? 1000),
    warmup: Number(values.warmup ?? 5000),
    held: values.held,
  };
}

const round = (x, digits = 2) => (x === null || x === undefined ? null : Number(x.toFixed(digits)));

async function enqueueAll(adapter, n, batchSize) {
  for (let i = 0; i < n; i += batchSize) {
    const argsList = [];
    for (let j = i; j < Math.min(n, i + batchSize); j++) argsList.push({ i: j });
    await adapter.enqueueBatch(argsList);
  }
}

const scenarios = {
  /** Bulk enqueue through the batch API, in chunks of --batch-size. No worker runs. */
  async 'enqueue-batch'(adapter) {
    await adapter.setup({ role: 'enqueue', concurrency: params.concurrency });
    const profile = await startProfile();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await enqueueAll(adapter, params.jobs, params.batchSize);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await profile?.stop();
    return { jobsPerSec: round(params.jobs / seconds, 0), seconds: round(seconds, 3), cpuUsPerJob: round((cpu.user + cpu.system) / params.jobs, 1) };
  },

  /** Enqueue one job per call, each awaited before the next. No worker runs. */
  async 'enqueue-one'(adapter) {
    await adapter.setup({ role: 'enqueue', concurrency: params.concurrency });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < params.jobs; i++) await adapter.enqueueOne({ i });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { jobsPerSec: round(params.jobs / seconds, 0), seconds: round(seconds, 3), cpuUsPerJob: round((cpu.user + cpu.system) / params.jobs, 1) };
  },

  /**
   * Drain: N no-op jobs are queued first (batch API), then the worker starts.
   * Throughput runs from the first handler call to the moment the store has
   * no unfinished job left (every completion acknowledged). CPU is measured
   * over the same window; the database counters from just before the worker
   * starts to after it has stopped and closed its connections.
   */
  async drain(adapter) {
    const n = params.jobs;
    let done = 0;
    let t0;
    let cpu0;
    let resolveAll;
    const all = new Promise((resolve) => (resolveAll = resolve));
    const onJob = () => {
      if (done === 0) {
        t0 = performance.now();
        cpu0 = process.cpuUsage();
      }
      if (++done === n) resolveAll();
    };
    await adapter.setup({ role: 'drain', concurrency: params.concurrency, onJob });
    const setupRssMB = process.memoryUsage.rss() / 2 ** 20;
    await enqueueAll(adapter, n, params.batchSize);

    const counters = adapter.backend === 'postgres' ? await new PgCounters().open() : null;
    await counters?.start();
    const profile = await startProfile();
    const pgCpu0 = counters ? postgresCpuMicros() : null;
    // The Redis server's CPU (shared with whatever else uses that server here, as PostgreSQL's is).
    const redisCpu0 = adapter.backend === 'redis' ? redisCpuMicros() : null;
    await adapter.startWorker();
    const timeout = setTimeout(() => resolveAll(), 300_000);
    await all;
    clearTimeout(timeout);
    if (done < n) throw new Error(`drain: only ${done} of ${n} jobs ran within 300 s`);
    await waitFor(async () => (await adapter.pending()) === 0, { everyMs: 5, timeoutMs: 60_000, what: 'acknowledgements' });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const pgCpu = pgCpu0 === null ? null : postgresCpuMicros() - pgCpu0;
    const redisCpu = redisCpu0 === null ? null : redisCpuMicros() - redisCpu0;
    const peakRssMB = process.resourceUsage().maxRSS / 1024;
    await profile?.stop();

    await adapter.stop();
    await closeProbe();
    const db = counters ? await counters.end() : null;
    await counters?.close();
    return {
      jobsPerSec: round(n / seconds, 0),
      seconds: round(seconds, 3),
      peakRssMB: round(peakRssMB, 1),
      setupRssMB: round(setupRssMB, 1),
      cpuUsPerJob: round((cpu.user + cpu.system) / n, 1),
      pgCpuUsPerJob: pgCpu === null ? null : round(pgCpu / n, 1),
      redisCpuUsPerJob: redisCpu === null ? null : round(redisCpu / n, 1),
      commitsPerJob: db ? round(db.commits / n, 3) : null,
      walBytesPerJob: db ? round(db.walBytes / n, 0) : null,
    };
  },

  /**
   * Latency: an idle worker; one job every --interval ms; the handler
   * compares performance.now() with the timestamp taken just before the
   * enqueue call (same process, same clock).
   */
  async latency(adapter) {
    const n = params.jobs;
    const samples = [];
    await adapter.setup({
      role: 'latency',
      concurrency: params.concurrency,
      onJob: (args) => samples.push(performance.now() - args.t),
    });
    await adapter.startWorker();
    await sleep(1000); // the worker is up and idle
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const wait = start + i * params.interval - performance.now();
      if (wait > 0) await sleep(wait);
      await adapter.enqueueOne({ t: performance.now() });
    }
    await waitFor(() => samples.length >= n, { everyMs: 20, timeoutMs: 60_000, what: `${n} jobs to start` });
    await adapter.stop();
    return {
      p50: round(percentile(samples, 50)),
      p95: round(percentile(samples, 95)),
      p99: round(percentile(samples, 99)),
      max: round(Math.max(...samples)),
      samples: samples.length,
    };
  },

  /** Per-job cost of a drain window with --backlog jobs queued, with or without a held snapshot (backlog.mjs). */
  backlog: (adapter) => backlog(adapter, params, enqueueAll),

  /** Lateness of an every-second schedule: start time minus planned time, over --duration seconds. */
  async schedule(adapter) {
    if (!adapter.supportsSchedule) return { skipped: adapter.scheduleNote ?? 'no every-second schedule' };
    const ticks = [];
    await adapter.setup({ role: 'schedule', concurrency: params.concurrency, onTick: (t) => ticks.push(t) });
    await adapter.startWorker();
    await sleep(params.duration * 1000);
    await adapter.stop();
    // The first tick is a warm-up (and may have been planned before the worker was up).
    const late = ticks.slice(1).map((t) => t.startedAt - t.scheduledAt);
    if (late.length === 0) throw new Error('no tick ran');
    return {
      p50: round(percentile(late, 50), 1),
      p99: round(percentile(late, 99), 1),
      max: round(Math.max(...late), 1),
      min: round(Math.min(...late), 1),
      ticks: late.length,
      expectedTicks: params.duration - 1,
    };
  },
};

async function main() {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  const adapter = await ADAPTERS[adapterKey]();
  const startedAt = new Date().toISOString();
  let metrics;
  try {
    metrics = await scenarios[scenario](adapter);
  } finally {
    await adapter.stop().catch((e) => console.error(`stop: ${e.message}`));
    await closeProbe();
    await adapter.cleanup().catch((e) => console.error(`cleanup: ${e.message}`));
  }
  return { ok: true, adapter: adapterKey, name: adapter.name, scenario, params, startedAt, metrics };
}

main().then(
  (result) => {
    process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
  },
  (error) => {
    console.error(error);
    process.stdout.write(`BENCH_RESULT ${JSON.stringify({ ok: false, adapter: adapterKey, scenario, params, error: String(error?.stack ?? error) })}\n`, () =>
      process.exit(1),
    );
  },
);
