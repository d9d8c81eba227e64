// A process that claims and completes jobs from a SQLite file until it finds
// none for a while, then prints the ids it claimed as JSON (compiled with the
// cluster node, see cluster.ts; run by the SQLite multi-process test). It
// starts claiming when the test writes a line to its stdin.
import { openSqlite } from '../../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../../lib/sqlite/sqlite.store.js';

const path = process.env.SQLITE_PATH;
const node = process.env.NODE_NAME;
if (!path || !node) throw new Error('SQLITE_PATH and NODE_NAME must be set');

const store = new SqliteStore(await openSqlite({ type: 'sqlite', path }));
await store.init();
// Ready, then wait for the test's "go" on stdin, so that every claimer starts at once.
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const claimed: string[] = [];
for (let idle = 0; idle < 20;) {
  const jobs = await store.claim({ queue: 'default', limit: 3, node, now: new Date() });
  if (jobs.length === 0) {
    idle++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    continue;
  }
  idle = 0;
  for (const job of jobs) {
    claimed.push(job.id);
    await store.complete({ id: job.id, attempt: job.attempt }, { by: node }, new Date());
  }
}
await store.close();
process.stdout.write(`${JSON.stringify(claimed)}\n`);
process.stdin.destroy();
