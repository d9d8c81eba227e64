/**
 * A/B of this checkout against another build of the library, interleaved in
 * one run so both see the same machine:
 *
 *   node compare.mjs --base /path/to/other/checkout [--rounds 5] [--jobs 20000]
 *                    [--cases nestjs-scheduler-postgres:drain:10,nestjs-scheduler-memory:drain:10]
 *
 * The other checkout must be built (`npm run build`) with its own
 * `bench/node_modules` installed. Each round runs every case once on each
 * side, alternating which side goes first; it prints the medians and the
 * ratio this/base (above 1: this checkout is faster, or for latency slower).
 * A case is `adapter:scenario[:concurrency]`; scenarios as in scenario.mjs.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR, median } from './common.mjs';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    jobs: { type: 'string', default: '20000' },
    cases: {
      type: 'string',
      default:
        'nestjs-scheduler-postgres:drain:10,nestjs-scheduler-postgres:drain:50,nestjs-scheduler-postgres:latency,nestjs-scheduler-postgres:enqueue-batch,nestjs-scheduler-memory:drain:10,nestjs-scheduler-memory:latency',
    },
  },
});
if (!values.base) {
  console.error('usage: node compare.mjs --base <checkout> [--rounds N] [--jobs N] [--cases adapter:scenario[:concurrency],…]');
  process.exit(2);
}
const sides = { this: BENCH_DIR, base: path.join(path.resolve(values.base), 'bench') };
const cases = values.cases.split(',').map((c) => {
  const [adapter, scenario, concurrency] = c.split(':');
  return {
    name: c,
    adapter,
    scenario,
    flags: [...(scenario === 'latency' ? [] : ['--jobs', values.jobs]), ...(concurrency ? ['--concurrency', concurrency] : [])],
  };
});

/** The figure a case is judged by: jobs a second (with Node's CPU a job, and PostgreSQL's where measured), or the latency's p50 and p99. */
function figures(result) {
  const m = result.metrics;
  if (m.jobsPerSec === undefined) return { p50: m.p50, p99: m.p99 };
  const pg = typeof m.pgCpuUsPerJob === 'number' ? { pgCpuUsPerJob: m.pgCpuUsPerJob } : {};
  return { jobsPerSec: m.jobsPerSec, cpuUsPerJob: m.cpuUsPerJob, ...pg };
}

function run(dir, c) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(dir, 'scenario.mjs'), c.adapter, c.scenario, ...c.flags], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', () => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      const result = line ? JSON.parse(line.slice('BENCH_RESULT '.length)) : { ok: false };
      resolve(result.ok ? figures(result) : null);
    });
  });
}

const samples = new Map(cases.map((c) => [c.name, { this: [], base: [], pairs: [] }]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const c of cases) {
    const order = round % 2 === 0 ? ['this', 'base'] : ['base', 'this'];
    const pair = {};
    for (const side of order) {
      const figure = await run(sides[side], c);
      if (figure) samples.get(c.name)[side].push(figure);
      pair[side] = figure;
      process.stderr.write(`round ${round + 1} ${c.name} ${side}: ${JSON.stringify(figure)}\n`);
    }
    if (pair.this && pair.base) samples.get(c.name).pairs.push(pair);
  }
}

// The median of each round's own ratio is the steadier figure when the
// machine's load shifts during the run (both sides of a round see the same load).
console.log('| case | figure | this | base | this / base | median of round ratios (range) |');
console.log('|---|---|---|---|---|---|');
for (const c of cases) {
  const s = samples.get(c.name);
  if (s.this.length === 0 || s.base.length === 0) {
    console.log(`| ${c.name} | failed | | | | |`);
    continue;
  }
  for (const key of Object.keys(s.this[0])) {
    const a = median(s.this.map((f) => f[key]));
    const b = median(s.base.map((f) => f[key]));
    const ratios = s.pairs.map((pair) => pair.this[key] / pair.base[key]);
    const range = `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
    console.log(`| ${c.name} | ${key} | ${a} | ${b} | ${(a / b).toFixed(2)} | ${median(ratios).toFixed(2)} (${range}) |`);
  }
}
