/**
 * How PostgreSQL planned the store's prepared statements in a drain: N
 * no-op jobs queued, then drained by the Nest module (the bench's adapter,
 * history kept); before the application closes, every connection of its
 * pool reports `pg_prepared_statements` (a session's own view). A statement
 * served by its cached generic plan shows generic runs; one planned anew
 * for each run's values (a custom plan) pays a planning per execution.
 *
 *   node bench/plan-cache.mjs [--jobs 20000] [--concurrency 10]
 *
 * Prints one JSON line: per statement (the name past the store's hash), the
 * custom and generic plan counts summed over the connections.
 */
import { parseArgs } from 'node:util';
import { closeProbe, importFromRoot, waitFor } from './common.mjs';
import { postgres } from './adapters/nestjs-scheduler.mjs';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '10' } } });
const jobs = Number(values.jobs);
const concurrency = Number(values.concurrency);

// The library's own pg (the repository root's): remember each pool it opens.
const pg = (await importFromRoot('pg')).default;
const pools = [];
const connect = pg.Pool.prototype.connect;
pg.Pool.prototype.connect = function (...args) {
  if (!pools.includes(this)) pools.push(this);
  return connect.apply(this, args);
};

const adapter = postgres();
let done = 0;
await adapter.setup({
  role: 'drain',
  concurrency,
  onJob: () => {
    done++;
  },
});
try {
  for (let i = 0; i < jobs; i += 1000) await adapter.enqueueBatch(Array.from({ length: Math.min(1000, jobs - i) }, (_, j) => ({ i: i + j })));
  await adapter.startWorker();
  await waitFor(() => done >= jobs, { everyMs: 20, timeoutMs: 300_000, what: 'the drain' });
  await waitFor(async () => (await adapter.pending()) === 0, { everyMs: 5, timeoutMs: 60_000, what: 'acknowledgements' });
  const plans = {};
  for (const pool of pools) {
    // Every connection of the pool, held at once so each is a different session.
    const clients = [];
    for (let i = 0; i < pool.totalCount; i++) clients.push(await pool.connect());
    for (const client of clients) {
      const { rows } = await client.query('SELECT name, generic_plans::int AS g, custom_plans::int AS c FROM pg_prepared_statements');
      for (const r of rows) {
        const name = r.name.replace(/^nss_[0-9a-f]+_/, '');
        plans[name] ??= { custom: 0, generic: 0 };
        plans[name].custom += r.c;
        plans[name].generic += r.g;
      }
      client.release();
    }
  }
  console.log(JSON.stringify({ jobs, concurrency, plans }));
} finally {
  await adapter.stop();
  await adapter.cleanup();
  await closeProbe();
}
