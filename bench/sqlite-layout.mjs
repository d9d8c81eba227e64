/**
 * The SQLite store's two hot paths on their own, through its API: claim N
 * jobs (one transaction), then complete them (one transaction of
 * acknowledgements, as a turn of the event loop writes them), in a loop over
 * a queued backlog. Prints the CPU time a job of each (this process: the
 * store runs on its thread), with no worker, runner or peer library in the way.
 *
 *   node bench/sqlite-layout.mjs [--jobs 20000] [--batch 500] [--rounds 5] [--root <checkout>]…
 *
 * With several `--root`s (built checkouts, their `dist/`), their rounds are
 * interleaved in one process run and each prints its medians: an A/B of two
 * layouts on a shared machine. Each round uses a fresh file in a temporary
 * directory, removed after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT_DIR, median } from './common.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '5' },
    root: { type: 'string', multiple: true },
  },
});
const jobs = Number(values.jobs);
const batch = Number(values.batch);
const roots = (values.root ?? [ROOT_DIR]).map((root) => path.resolve(root));
const NOW = new Date();

async function load(root) {
  const lib = (rel) => import(pathToFileURL(path.join(root, 'dist/lib/sqlite', rel)).href);
  const [{ openSqlite }, { SqliteStore }] = await Promise.all([lib('sqlite.connection.js'), lib('sqlite.store.js')]);
  return { openSqlite, SqliteStore };
}

const cpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

async function round({ openSqlite, SqliteStore }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-sqlite-layout-'));
  const store = new SqliteStore(await openSqlite({ type: 'sqlite', path: path.join(dir, 'jobs.db') }));
  try {
    await store.init();
    for (let i = 0; i < jobs; i += 1000) {
      const count = Math.min(1000, jobs - i);
      await store.insert(
        Array.from({ length: count }, (_, k) => ({
          name: 'noop',
          queue: 'default',
          args: { i: i + k },
          priority: 0,
          maxAttempts: 3,
          timeout: null,
          runAt: NOW,
        })),
      );
    }
    let claimCpu = 0;
    let completeCpu = 0;
    for (let done = 0; done < jobs;) {
      let t = cpu();
      const claimed = await store.claim({ queue: 'default', limit: batch, node: 'bench', now: NOW });
      claimCpu += cpu() - t;
      t = cpu();
      await Promise.all(claimed.map((job) => store.complete({ id: job.id, attempt: job.attempt }, null, NOW)));
      completeCpu += cpu() - t;
      done += claimed.length;
    }
    return { claim: claimCpu / jobs, complete: completeCpu / jobs };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const sides = await Promise.all(roots.map(load));
const results = roots.map(() => []);
for (let r = 0; r < Number(values.rounds); r++) {
  // Alternate which side goes first, as compare.mjs does.
  const order = sides.map((_, i) => i);
  if (r % 2 === 1) order.reverse();
  for (const i of order) results[i].push(await round(sides[i]));
}
const fixed = (n) => Number(n.toFixed(2));
for (const [i, root] of roots.entries()) {
  const claim = results[i].map((x) => x.claim);
  const complete = results[i].map((x) => x.complete);
  const total = results[i].map((x) => x.claim + x.complete);
  console.log(
    JSON.stringify({
      root,
      jobs,
      batch,
      cpuUsPerJob: { claim: fixed(median(claim)), complete: fixed(median(complete)), total: fixed(median(total)) },
      totalRange: [fixed(Math.min(...total)), fixed(Math.max(...total))],
    }),
  );
}
