/**
 * What a claim pays for due jobs it may not take: `--jobs` due jobs ahead
 * of 200 of another name, then claims of 10 (each must take 10 of the other
 * name), on the SQLite store (this process's CPU a claim) and the Redis
 * store (wall time a claim: the script runs on the server, which serves no
 * one else meanwhile). `--kind` says why they may not be taken: `paused`
 * (their name is paused) or `pinned` (pinned to another node). A serial
 * key holds back no such backlog: a key has one waiting job at most.
 *
 *   node bench/blocked-claims.mjs [--jobs 20000] [--claims 10] [--kind paused] [--stores sqlite,redis] [--root <checkout>]…
 *
 * Prints the median and the fastest claim of each store and checkout, and
 * for paused jobs how long the pause itself took (Redis parks them then).
 * Redis: BENCH_REDIS_URL (default redis://127.0.0.1:6379), a
 * key prefix of its own, deleted after.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { REDIS_URL, ROOT_DIR, deleteRedisKeys, median, runId } from './common.mjs';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    claims: { type: 'string', default: '10' },
    kind: { type: 'string', default: 'paused' },
    stores: { type: 'string', default: 'sqlite,redis' },
    root: { type: 'string', multiple: true },
  },
});
const blocked = Number(values.jobs);
const claims = Number(values.claims);
const kind = values.kind;
if (!['paused', 'pinned'].includes(kind)) throw new Error(`--kind is paused or pinned, not ${kind}`);
const roots = (values.root ?? [ROOT_DIR]).map((root) => path.resolve(root));
const lib = (root, rel) => import(pathToFileURL(path.join(root, 'dist/lib', rel)).href);

async function measure(store) {
  const at = new Date(Date.now() - 1_000);
  const job = (name, i, extra) => ({ name, queue: 'default', args: { i }, priority: 0, maxAttempts: 3, timeout: null, runAt: at, scheduledAt: at, ...extra });
  const extra = kind === 'pinned' ? { pinnedNode: 'elsewhere' } : {};
  for (let i = 0; i < blocked; i += 1_000) await store.insert(Array.from({ length: Math.min(1_000, blocked - i) }, (_, k) => job('blocked', i + k, extra)));
  await store.insert(Array.from({ length: 200 }, (_, k) => job('free', k)));
  const pausing = process.hrtime.bigint();
  if (kind === 'paused') await store.setScheduleState('blocked', { paused: true });
  const pause = Number(process.hrtime.bigint() - pausing) / 1e6;
  const cpu = [];
  const wall = [];
  for (let r = 0; r < claims; r++) {
    const c = process.cpuUsage();
    const t = process.hrtime.bigint();
    const jobs = await store.claim({ queue: 'default', limit: 10, node: 'bench', now: new Date() });
    wall.push(Number(process.hrtime.bigint() - t) / 1e6);
    const u = process.cpuUsage(c);
    cpu.push((u.user + u.system) / 1_000);
    if (jobs.length !== 10 || jobs.some((j) => j.name !== 'free')) throw new Error(`a claim took ${jobs.length} jobs, not 10 of "free"`);
  }
  return { cpu, wall, pause };
}

const paused = (ms) => (kind === 'paused' ? `; the pause itself ${ms.toFixed(1)} ms` : '');
const fmt = (xs) => `median ${median(xs).toFixed(1)} ms, fastest ${Math.min(...xs).toFixed(1)} ms`;
for (const root of roots) {
  if (values.stores.includes('sqlite')) {
    const [{ openSqlite }, { SqliteStore }] = await Promise.all([lib(root, 'sqlite/sqlite.connection.js'), lib(root, 'sqlite/sqlite.store.js')]);
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-blocked-'));
    const store = new SqliteStore(await openSqlite({ type: 'sqlite', path: path.join(dir, 'jobs.db') }));
    try {
      await store.init();
      const { cpu, pause } = await measure(store);
      console.log(`${root} sqlite: a claim behind ${blocked} ${kind} jobs, CPU ${fmt(cpu)}${paused(pause)}`);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (values.stores.includes('redis')) {
    const [{ openRedis }, { RedisStore }] = await Promise.all([lib(root, 'redis/redis.client.js'), lib(root, 'redis/redis.store.js')]);
    const keyPrefix = `bench_blocked_${runId()}`;
    const store = new RedisStore(await openRedis({ url: REDIS_URL, keyPrefix }));
    try {
      await store.init();
      const { wall, pause } = await measure(store);
      console.log(`${root} redis: a claim behind ${blocked} ${kind} jobs, wall ${fmt(wall)}${paused(pause)}`);
    } finally {
      await store.close();
      await deleteRedisKeys(`{${keyPrefix}}:*`);
    }
  }
}
