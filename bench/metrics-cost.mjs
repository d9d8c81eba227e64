/**
 * Issue #18: what the scheduler's metrics cost a drain with an SDK
 * registered, against the same drain with no SDK, resolved to a few per cent.
 *
 *   node metrics-cost.mjs [--stores memory,postgres] [--concurrency 10,50] [--processes 3]
 *                         [--rounds 6] [--warmup 1] [--jobs 50000] [--postgres-jobs 10000]
 *                         [--variants none,off,producer] [--reference sdk] [--reference-processes 1] [--json]
 *
 * Each process (a fresh child, run with --expose-gc) boots one application
 * per variant, side by side, each on its own store (memory, or a schema of
 * its own), then drains --jobs jobs through each in turn: --warmup rounds
 * left out, then --rounds measured ones, the variants' order rotating every
 * round. A drain is measured by the CPU time of the main thread alone
 * (`/proc/self/task/<pid>/schedstat`, nanoseconds; `process.threadCpuUsage`
 * where Node has it), from a forced full collection and the queue's resume
 * to the last acknowledgement: no start-up, no JIT warm-up, no enqueue, no
 * libuv or GC helper threads. Every measured drain of a variant is paired
 * with the no-SDK drain of the same round in the same process; the figure
 * is the median of those ratios over every process, with its spread and a
 * distribution-free 95 % interval of the median. `off` (metrics disabled)
 * runs the very code of `none`, so its ratio is the measure's noise floor
 * (and the bias of one application against another in a process); the
 * producer is also given against both (their geometric mean).
 * Whole-process CPU (`process.cpuUsage`) of the same drains is reported too.
 *
 * Variants: `none` (the default: metrics enabled, no SDK registered), `off`
 * (`metrics.enabled: false`), `producer` (an SDK MeterProvider, histograms by
 * a SchedulerMetricProducer), `producer-lean` (the same with
 * `storeOperations: false`), `sdk` (the SDK's own histograms). The
 * `--reference` variants (the SDK's histograms) run in processes of their
 * own, with `none` again: in one process with the producer, the job records'
 * call sites would see both kinds of recorder and the producer's would no
 * longer be inlined, which costs it a few per cent. The memory
 * store forgets completed jobs (`retention.completed: 0`), so that its heap
 * stays the same from round to round; PostgreSQL keeps them (the default).
 * Prints a markdown table, then one JSON line (the last line) with everything.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BENCH_DIR, closeProbe, median, sleep, waitFor } from './common.mjs';
import { costTable } from './metrics-cost-report.mjs';

const { values } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    store: { type: 'string' },
    stores: { type: 'string', default: 'memory,postgres' },
    concurrency: { type: 'string', default: '10,50' },
    processes: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '1' },
    jobs: { type: 'string', default: '50000' },
    'postgres-jobs': { type: 'string', default: '10000' },
    variants: { type: 'string', default: 'none,off,producer' },
    reference: { type: 'string', default: 'sdk' },
    'reference-processes': { type: 'string', default: '1' },
    offset: { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
});

const METRICS = { none: undefined, off: 'off', producer: 'sdk-producer', 'producer-lean': 'sdk-producer-lean', sdk: 'sdk' };

/** CPU nanoseconds of the main thread so far. */
function mainThreadNs() {
  if (typeof process.threadCpuUsage === 'function') {
    const { user, system } = process.threadCpuUsage();
    return (user + system) * 1000;
  }
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
}

async function child() {
  const { createNestjsScheduler } = await import('./adapters/nestjs-scheduler.mjs');
  const store = values.store;
  const jobs = Number(values.jobs);
  const concurrency = Number(values.concurrency);
  const variants = values.variants.split(',');
  const rounds = Number(values.warmup) + Number(values.rounds);
  const apps = [];
  try {
    for (const variant of variants) {
      const app = {
        variant,
        done: 0,
        target: 0,
        finished: null,
        adapter: createNestjsScheduler(store, { metrics: METRICS[variant], forget: store === 'memory' }),
      };
      apps.push(app);
      await app.adapter.setup({
        role: 'drain',
        concurrency,
        onJob: () => {
          if (++app.done === app.target) app.finished();
        },
      });
    }
    const batch = Array.from({ length: 1000 }, (_, i) => ({ i }));
    const orders = permutations(apps);
    for (let round = 0; round < rounds; round++) {
      // Every order in turn (each process starting elsewhere): no variant always drains first, or always after the same one.
      for (const app of orders[(round + Number(values.offset)) % orders.length]) {
        for (let i = 0; i < jobs; i += batch.length) await app.adapter.enqueueBatch(batch.slice(0, Math.min(batch.length, jobs - i)));
        app.done = 0;
        app.target = jobs;
        const all = new Promise((resolve) => (app.finished = resolve));
        // A full collection, and time for its concurrent sweeping, so that no drain pays for another's garbage.
        global.gc();
        await sleep(20);
        const cpu0 = process.cpuUsage();
        const main0 = mainThreadNs();
        const t0 = performance.now();
        await app.adapter.startWorker();
        await all;
        await waitFor(async () => (await app.adapter.pending()) === 0, { everyMs: 2, timeoutMs: 60_000, what: 'acknowledgements' });
        const mainNs = mainThreadNs() - main0;
        const wallMs = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        await app.adapter.pauseWorker();
        if (round >= Number(values.warmup)) {
          const line = { variant: app.variant, round: round - Number(values.warmup), jobs, mainNs, processUs: cpu.user + cpu.system, wallMs };
          process.stdout.write(`COST ${JSON.stringify(line)}\n`);
        }
      }
    }
  } finally {
    for (const app of apps) await app.adapter.stop().catch((e) => console.error(`stop: ${e.message}`));
    await closeProbe();
    for (const app of apps) await app.adapter.cleanup().catch((e) => console.error(`cleanup: ${e.message}`));
  }
}

/** Every order of `xs`. */
function permutations(xs) {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

function runChild(store, concurrency, jobs, offset, variants) {
  const args = ['--expose-gc', path.join(BENCH_DIR, 'metrics-cost.mjs'), '--child', '--store', store, '--concurrency', String(concurrency)];
  args.push('--jobs', String(jobs), '--rounds', values.rounds, '--warmup', values.warmup, '--variants', variants.join(','), '--offset', String(offset));
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.on('close', (code) => {
      if (code !== 0) return reject(new Error(`metrics-cost child ${store} c${concurrency} exited with ${code}`));
      resolve(
        out
          .split('\n')
          .filter((l) => l.startsWith('COST '))
          .map((l) => JSON.parse(l.slice(5))),
      );
    });
  });
}

/** A distribution-free 95 % interval of the median of `xs` (order statistics; the range below 6 values). */
function medianInterval(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const k = Math.floor((n - 1.96 * Math.sqrt(n)) / 2);
  return k < 1 ? [s[0], s[n - 1]] : [s[k - 1], s[n - k]];
}

const r3 = (x) => Number(x.toFixed(3));

/**
 * Per variant: µs a job (main thread, whole process), and its ratios against
 * `none` paired by process and round; with `off` in the group, also against
 * both (their geometric mean), two applications of the same code, so that
 * whatever sets one application apart from another in a process weighs on
 * the base less.
 */
function summarise(samples, variants) {
  const key = (s) => `${s.process}/${s.round}`;
  const base = new Map(samples.filter((s) => s.variant === 'none').map((s) => [key(s), s]));
  const off = new Map(samples.filter((s) => s.variant === 'off').map((s) => [key(s), s]));
  const stats = (ratios) => ({
    median: r3(median(ratios)),
    interval: medianInterval(ratios).map(r3),
    range: [r3(Math.min(...ratios)), r3(Math.max(...ratios))],
  });
  return variants.map((variant) => {
    const mine = samples.filter((s) => s.variant === variant);
    const pairs = mine.filter((s) => base.has(key(s)));
    const summary = {
      variant,
      pairs: pairs.length,
      mainUsPerJob: r3(median(mine.map((s) => s.mainNs / 1000 / s.jobs))),
      processUsPerJob: r3(median(mine.map((s) => s.processUs / s.jobs))),
      jobsPerSec: Math.round(median(mine.map((s) => s.jobs / (s.wallMs / 1000)))),
    };
    if (variant === 'none' || pairs.length === 0) return summary;
    summary.vsNone = stats(pairs.map((s) => s.mainNs / base.get(key(s)).mainNs));
    summary.processVsNone = stats(pairs.map((s) => s.processUs / base.get(key(s)).processUs));
    const both = pairs.filter((s) => off.has(key(s)));
    if (variant !== 'off' && both.length > 0) {
      summary.vsBoth = stats(both.map((s) => s.mainNs / Math.sqrt(base.get(key(s)).mainNs * off.get(key(s)).mainNs)));
    }
    return summary;
  });
}

async function main() {
  const variants = values.variants.split(',');
  const reference = values.reference ? ['none', ...values.reference.split(',')] : [];
  for (const group of [variants, reference].filter((g) => g.length > 0)) {
    if (group[0] !== 'none' || group.some((v) => !(v in METRICS))) throw new Error(`--variants: none first, then any of ${Object.keys(METRICS).join(', ')}`);
  }
  const cases = [];
  for (const store of values.stores.split(',')) {
    for (const concurrency of values.concurrency.split(',').map(Number)) {
      const jobs = Number(store === 'postgres' ? values['postgres-jobs'] : values.jobs);
      const groups = [
        { variants, processes: Number(values.processes) },
        { variants: reference, processes: Number(values['reference-processes']) },
      ];
      const summary = [];
      for (const [g, group] of groups.entries()) {
        if (group.variants.length === 0 || group.processes === 0) continue;
        const samples = [];
        for (let p = 0; p < group.processes; p++) {
          for (const s of await runChild(store, concurrency, jobs, p, group.variants)) samples.push({ ...s, process: p });
          process.stderr.write(`metrics-cost: ${store} c${concurrency} ${group.variants.join(',')}: process ${p + 1}/${group.processes} done\n`);
        }
        // The reference group's own `none` is only the base of its ratios.
        summary.push(...summarise(samples, group.variants).filter((v) => g === 0 || v.variant !== 'none'));
      }
      cases.push({ store, concurrency, jobs, processes: Number(values.processes), rounds: Number(values.rounds), variants: summary });
    }
  }
  const measure = typeof process.threadCpuUsage === 'function' ? 'process.threadCpuUsage' : '/proc/self/task/<pid>/schedstat';
  if (!values.json) for (const c of cases) process.stdout.write(`${costTable(c)}\n\n`);
  process.stdout.write(`${JSON.stringify({ measure, warmup: Number(values.warmup), cases })}\n`);
}

(values.child ? child() : main()).then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
