import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS } from '../../lib/sqlite/migrations/index.js';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import type { Job, NewJob, QueueCounts } from '../../lib/store/job.types.js';

const NOW = new Date('2026-12-05T12:00:00Z');
const LATER = new Date(NOW.getTime() + 60_000);
const error = { attempt: 1, at: NOW, name: 'Error', message: 'boom', kind: 'error' };

function newJob(queue: string, extra: Partial<NewJob> = {}): NewJob {
  return { name: 'work', queue, args: {}, priority: 5, maxAttempts: 1, timeout: null, runAt: NOW, ...extra };
}

let dir: string;
let path: string;
let store: SqliteStore | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-counts-'));
  path = join(dir, 'jobs.db');
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function open(): Promise<SqliteStore> {
  store = new SqliteStore(await openSqlite({ type: 'sqlite', path }));
  await store.init();
  return store;
}

/** The counts as the jobs table itself has them now (every row read). */
function truth(s: SqliteStore): QueueCounts[] {
  const rows = s.sqlite.db
    .prepare(`SELECT queue, CASE WHEN state = 'available' AND run_at > ? THEN 'scheduled' ELSE state END AS state, count(*) AS n FROM jobs GROUP BY 1, 2`)
    .all(NOW.getTime()) as { queue: string; state: keyof Omit<QueueCounts, 'queue'>; n: number }[];
  const counts = new Map<string, QueueCounts>();
  for (const row of rows) {
    const entry = counts.get(row.queue) ?? { queue: row.queue, available: 0, scheduled: 0, running: 0, completed: 0, dead: 0, discarded: 0, cancelled: 0 };
    entry[row.state] += row.n;
    counts.set(row.queue, entry);
  }
  return [...counts.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1));
}

async function claim(s: SqliteStore, queue: string, limit: number): Promise<Job[]> {
  return s.claim({ queue, limit, node: 'n1', now: NOW });
}

describe('SqliteStore queue counts (finished jobs counted in queue_counts)', () => {
  it('follow the jobs table through every way into and out of a final state', async () => {
    const s = await open();
    await s.insert([...Array.from({ length: 6 }, () => newJob('a')), newJob('a', { uniqueKey: 'k' }), newJob('b'), newJob('b', { runAt: LATER })]);
    expect(await s.queueCounts(NOW)).toEqual(truth(s));
    const [one, two, three, four, five, six, unique] = await claim(s, 'a', 7);
    const [other] = await claim(s, 'b', 1);
    // The one-statement completion (counted at the end of its transaction), the general one, forget, fail, cancel.
    await Promise.all([
      s.complete({ id: one!.id, attempt: 1 }, null, NOW),
      s.complete({ id: two!.id, attempt: 1 }, null, NOW),
      s.complete({ id: unique!.id, attempt: 1 }, null, NOW),
      s.complete({ id: three!.id, attempt: 1 }, null, NOW, { forget: true }),
      s.fail({ id: four!.id, attempt: 1 }, 'dead', error, NOW),
      s.fail({ id: five!.id, attempt: 1 }, 'discarded', error, NOW),
      s.complete({ id: other!.id, attempt: 1 }, null, NOW),
    ]);
    await s.cancel(six!.id, NOW, 'no longer wanted');
    const after = await s.queueCounts(NOW);
    expect(after).toEqual(truth(s));
    expect(after).toEqual([
      { queue: 'a', available: 0, scheduled: 0, running: 0, completed: 3, dead: 1, discarded: 1, cancelled: 1 },
      { queue: 'b', available: 0, scheduled: 1, running: 0, completed: 1, dead: 0, discarded: 0, cancelled: 0 },
    ]);
    // Out of a final state: resurrected, deleted, pruned.
    await s.resurrect(four!.id, NOW);
    await s.delete([five!.id]);
    await s.prune(['completed'], LATER, 2);
    expect(await s.queueCounts(NOW)).toEqual(truth(s));
    expect((await s.queueCounts(NOW))[0]).toMatchObject({ available: 1, completed: 1, dead: 0, discarded: 0, cancelled: 1 });
  });

  it('count nothing of an acknowledgement whose statements failed', async () => {
    const s = await open();
    await s.insert(Array.from({ length: 3 }, () => newJob('a')));
    const jobs = await claim(s, 'a', 3);
    s.sqlite.db.exec(`CREATE TRIGGER refuse BEFORE UPDATE OF state ON jobs WHEN NEW.id = ${Number(jobs[1]!.id)} BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    const outcomes = await Promise.allSettled(jobs.map((job) => s.complete({ id: job.id, attempt: 1 }, null, NOW)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await s.queueCounts(NOW)).toEqual([{ queue: 'a', available: 0, scheduled: 0, running: 1, completed: 2, dead: 0, discarded: 0, cancelled: 0 }]);
  });

  it('upgrades a populated file of migration 5: the finished jobs it holds are counted, and counting goes on', async () => {
    const old = new Database(path);
    for (const migration of SQLITE_MIGRATIONS.filter((m) => m.id <= 5)) for (const statement of migration.up) old.exec(statement);
    old.pragma('user_version = 5');
    // Rows as release 5 wrote them: queued (due and later), running, and each final state, over two queues.
    const insert = old.prepare(
      `INSERT INTO jobs (name, queue, args, state, priority, attempt, max_attempts, run_at, scheduled_at, inserted_at, started_at, finished_at, heartbeat_at, node)
       VALUES ('work', ?, '{}', ?, 5, ?, 1, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const t = NOW.getTime();
    const rows: [string, string, number][] = [
      ['a', 'available', 0],
      ['a', 'available', 0],
      ['a', 'running', 1],
      ['a', 'completed', 1],
      ['a', 'completed', 1],
      ['a', 'dead', 1],
      ['b', 'available', 0],
      ['b', 'completed', 1],
      ['b', 'discarded', 1],
      ['b', 'cancelled', 0],
    ];
    for (const [queue, state, attempt] of rows) {
      const runAt = queue === 'b' && state === 'available' ? LATER.getTime() : t;
      const finished = ['completed', 'dead', 'discarded', 'cancelled'].includes(state) ? t : null;
      const started = attempt > 0 ? t : null;
      insert.run(queue, state, attempt, runAt, runAt, t, started, finished, state === 'running' ? t : null, state === 'running' ? 'n0' : null);
    }
    old.close();

    const s = await open();
    expect(s.sqlite.db.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.at(-1)!.id);
    const indexes = (s.sqlite.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'`).all() as { name: string }[]).map(
      (r) => r.name,
    );
    expect(indexes).toContain('jobs_queue_idx');
    expect(indexes).not.toContain('jobs_queue_state_idx');
    expect(await s.queueCounts(NOW)).toEqual([
      { queue: 'a', available: 2, scheduled: 0, running: 1, completed: 2, dead: 1, discarded: 0, cancelled: 0 },
      { queue: 'b', available: 0, scheduled: 1, running: 0, completed: 1, dead: 0, discarded: 1, cancelled: 1 },
    ]);
    expect(await s.count({ queue: 'a', states: ['completed'] })).toBe(2);
    expect((await s.list({ queue: 'b', limit: 10 })).map((j) => j.state)).toEqual(['cancelled', 'discarded', 'completed', 'available']);
    const [job] = await claim(s, 'a', 1);
    await s.complete({ id: job!.id, attempt: 1 }, null, NOW);
    await s.prune(['dead'], LATER, 10);
    expect(await s.queueCounts(NOW)).toEqual(truth(s));
    expect((await s.queueCounts(NOW))[0]).toMatchObject({ available: 1, running: 1, completed: 3, dead: 0 });
  });
});
