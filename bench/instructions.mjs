/**
 * Node instructions per single enqueue (PostgreSQL store, or `--store memory`), this checkout
 * against another build, counted by valgrind's callgrind: a count, not a
 * time, so it repeats on a shared, loaded machine where CPU-time A/B runs of
 * a sub-millisecond operation do not.
 *
 *   node instructions.mjs --base /path/to/other/checkout [--n 1000] [--store postgres|memory]
 *
 * Each side runs twice under callgrind, with 100 and 100 + n enqueues after
 * the same warm-up; the difference over n is the cost of one enqueue (start-up
 * and warm-up cancel out). Needs `valgrind` on the PATH, both checkouts built
 * with their `bench/node_modules` installed, and PostgreSQL (DATABASE_URL).
 * About 1.5 min per run at n = 1000.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_DIR, DATABASE_URL } from './common.mjs';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    n: { type: 'string', default: '1000' },
    store: { type: 'string', default: 'postgres' },
    child: { type: 'string' },
    dir: { type: 'string' },
  },
});

if (values.child !== undefined) {
  // One measured process: warm up, then `--child` enqueues, awaited one by one,
  // through the adapter (and so the library build) of the side's own bench folder.
  const { createNestjsScheduler } = await import(pathToFileURL(path.join(values.dir, 'adapters/nestjs-scheduler.mjs')).href);
  const adapter = createNestjsScheduler(values.store);
  await adapter.setup({ role: 'enqueue', concurrency: 10 });
  for (let i = 0; i < 300 + Number(values.child); i++) await adapter.enqueueOne({ i });
  await adapter.stop();
  await adapter.cleanup();
  process.exit(0);
}

if (!values.base) {
  console.error('usage: node instructions.mjs --base <checkout> [--n 1000] [--store postgres|memory]');
  process.exit(2);
}
const n = Number(values.n);
const self = fileURLToPath(import.meta.url);

function count(benchDir, enqueues) {
  const run = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      '--smc-check=all-non-file',
      process.execPath,
      '--single-threaded',
      self,
      '--child',
      String(enqueues),
      '--dir',
      benchDir,
    ],
    { cwd: benchDir, encoding: 'utf8', env: { ...process.env, DATABASE_URL } },
  );
  const match = /Collected : (\d+)/.exec(run.stderr ?? '');
  if (run.status !== 0 || !match) throw new Error(`callgrind run failed in ${benchDir}: ${run.error?.message ?? run.stderr?.slice(-2000)}`);
  return Number(match[1]);
}

const sides = { this: BENCH_DIR, base: path.join(path.resolve(values.base), 'bench') };
const perEnqueue = {};
for (const [side, dir] of Object.entries(sides)) {
  perEnqueue[side] = (count(dir, 100 + n) - count(dir, 100)) / n;
  console.log(`${side}: ${Math.round(perEnqueue[side]).toLocaleString('en')} instructions per enqueue`);
}
console.log(`this / base: ${(perEnqueue.this / perEnqueue.base).toFixed(3)}`);
