/**
 * Issue #18: the scheduler's own work for a job's metric records with
 * `metrics.producer`, apart from the drain around it, in nanoseconds a job:
 * what `JobMetrics` does at an attempt's start (queue time) and end
 * (duration, attempts), and the store timer's record of a completion write
 * (one per 20 jobs, as a memory-store drain at c10 writes them).
 *
 *   node metrics-records.mjs [--root <checkout>]... [--jobs 50000] [--rounds 15]
 *
 * Each round makes --jobs job objects (distinct, as a drain's claims are),
 * then runs through them in batches of 10 (started, then completed) with the
 * records, and once more with the same loop and no records; the figure is
 * the difference, a job. The script runs itself `--single-threaded` (no
 * GC or compiler threads) and reads the process's CPU, which is then the
 * main thread's, exactly. With several `--root`s (built checkouts: `npm run
 * build` there), their rounds alternate in one process; the median of each
 * and their ratio are printed. This is the records' cost in a loop, where
 * their data stay in cache: a drain interleaves them with the rest of a
 * job's work, which `metrics-cost.mjs` measures.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BENCH_DIR, median } from './common.mjs';

if (!process.execArgv.includes('--single-threaded')) {
  const child = spawnSync(process.execPath, ['--single-threaded', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

const { values } = parseArgs({
  options: {
    root: { type: 'string', multiple: true, default: [path.join(BENCH_DIR, '..')] },
    jobs: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '15' },
  },
});
const JOBS = Number(values.jobs);
const BATCH = 10;
const WRITE_EVERY = 20;

async function load(root) {
  const lib = (rel) => import(pathToFileURL(path.join(path.resolve(root), 'dist/lib', rel)).href);
  const { JobMetrics } = await lib('telemetry/metrics/job.metrics.js');
  const { resolveMetricsOptions } = await lib('telemetry/metrics/metrics.options.js');
  const { StoreTimer } = await lib('telemetry/metrics/store-timer.js');
  const { SchedulerMetricProducer } = await lib('metrics/index.js');
  const producer = new SchedulerMetricProducer();
  const meter = new MeterProvider().getMeter('bench');
  const options = resolveMetricsOptions({ producer }, (field, message) => {
    throw new Error(`${field} ${message}`);
  });
  const jobMetrics = new JobMetrics(meter, producer, options, Date.now);
  jobMetrics.start(() => () => undefined);
  const timer = new StoreTimer(producer, options.buckets);
  return { root, metrics: jobMetrics, timer, samples: [] };
}

function jobs() {
  const now = Date.now();
  return Array.from({ length: JOBS }, (_, i) => ({
    id: String(i),
    queue: 'default',
    name: 'bench',
    attempt: 1,
    runAt: new Date(now - 500 + (i % 100)),
    startedAt: new Date(now),
    args: { i },
  }));
}

/**
 * ns of CPU. The process runs `--single-threaded` (no GC or compiler
 * threads), so its CPU is the main thread's, read exactly: a thread's own
 * schedstat advances by scheduler ticks (4 ms here) while it runs.
 */
function cpuNs() {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

function withRecords({ metrics, timer }, list) {
  const at = Date.now();
  const records = new Array(BATCH);
  let sent = 0;
  for (let i = 0; i < list.length; i += BATCH) {
    for (let k = 0; k < BATCH; k++) records[k] = metrics.started(list[i + k], at);
    for (let k = 0; k < BATCH; k++) {
      if ((i + k) % WRITE_EVERY === 0) sent = timer.now();
      records[k].completed(list[i + k], 3);
      if ((i + k) % WRITE_EVERY === WRITE_EVERY - 1) timer.record('complete', sent);
    }
  }
}

/** The same loop over the same jobs, reading what the records read, recording nothing. */
function skeleton(list) {
  let sink = 0;
  for (let i = 0; i < list.length; i += BATCH) {
    for (let k = 0; k < BATCH; k++) sink += list[i + k].runAt.getTime() & 1;
    for (let k = 0; k < BATCH; k++) sink += list[i + k].attempt;
  }
  return sink;
}

const sides = [];
for (const root of values.root) sides.push(await load(root));
for (let round = 0; round < 2 + Number(values.rounds); round++) {
  for (const side of round % 2 ? [...sides].reverse() : sides) {
    const list = jobs();
    let t = cpuNs();
    withRecords(side, list);
    const recorded = cpuNs() - t;
    t = cpuNs();
    skeleton(list);
    const bare = cpuNs() - t;
    if (round >= 2) side.samples.push((recorded - bare) / JOBS);
  }
}
const base = median(sides[0].samples);
for (const side of sides) {
  const m = median(side.samples);
  const ratio = side === sides[0] ? '' : `, ${(m / base).toFixed(2)}× the first`;
  console.log(`${side.root}: ${m.toFixed(1)} ns a job (rounds ${Math.min(...side.samples).toFixed(1)}–${Math.max(...side.samples).toFixed(1)})${ratio}`);
}
