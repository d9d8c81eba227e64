import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import { newJobInput } from '../../lib/store/index.js';
import { buildClusterNode, clusterScripts } from '../support/cluster/cluster.js';

const claimer = clusterScripts.sqliteClaimer;

/** One claimer process: `ready` once it has opened the file, `done` with the ids it claimed once it found no more. */
function startClaimer(path: string, node: string): { ready: Promise<void>; go(): void; done: Promise<string[]> } {
  const child = spawn(process.execPath, [claimer], { env: { ...process.env, SQLITE_PATH: path, NODE_NAME: node }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = new Promise<string[]>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length)) as string[]) : reject(new Error(`${node} exited with ${code}: ${err}`)),
    ),
  );
  return { ready, go: () => child.stdin.write('go\n'), done };
}

describe('SQLite: processes sharing one file', () => {
  let dir: string;
  beforeAll(() => buildClusterNode(), 120_000);
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-procs-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('never hand one job to two processes: three claimers drain 3000 jobs, each job claimed once and completed once', async () => {
    const path = join(dir, 'jobs.db');
    const store = new SqliteStore(await openSqlite({ type: 'sqlite', path }));
    await store.init();
    const inserted = await store.insert(Array.from({ length: 3000 }, (_, i) => newJobInput(new Date(0), { args: { i } })));
    const ids = inserted.map((r) => r.job.id);

    const claimers = ['p1', 'p2', 'p3'].map((node) => startClaimer(path, node));
    await Promise.all(claimers.map((c) => c.ready));
    for (const c of claimers) c.go();
    const claims = await Promise.all(claimers.map((c) => c.done));

    const all = claims.flat();
    expect(all).toHaveLength(3000);
    expect(new Set(all).size).toBe(3000);
    expect([...all].sort()).toEqual([...ids].sort());
    // The claims really ran side by side. Not every process is sure to get a
    // share: SQLite's lock is not fair (a waiting writer sleeps with backoff
    // while the others commit), so one of three was seen starved for the whole drain.
    expect(claims.filter((share) => share.length > 0).length).toBeGreaterThan(1);
    expect(await store.count({ states: ['completed'] })).toBe(3000);
    const byNode = new Map<string, number>();
    for (const job of await store.list({ states: ['completed'] })) {
      expect(job.attempt).toBe(1);
      byNode.set(job.node!, (byNode.get(job.node!) ?? 0) + 1);
    }
    // A process that got no share completed nothing, so it has no entry.
    const shares = Object.fromEntries(['p1', 'p2', 'p3'].map((node, i) => [node, claims[i]!.length]).filter(([, n]) => n !== 0));
    expect(Object.fromEntries(byNode)).toEqual(shares);
    await store.close();
  }, 60_000);
});
