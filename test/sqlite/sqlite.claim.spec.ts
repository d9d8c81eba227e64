import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import type { Job, NewJob } from '../../lib/store/job.types.js';

const NOW = new Date('2026-12-05T12:00:00Z');
const error = { attempt: 1, at: NOW, name: 'Error', message: 'boom', kind: 'error' };

function newJob(extra: Partial<NewJob> = {}): NewJob {
  return { name: 'work', queue: 'q', args: { n: 1 }, priority: 5, maxAttempts: 3, timeout: null, runAt: NOW, ...extra };
}

let dir: string;
let store: SqliteStore | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-claim-'));
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function open(): Promise<SqliteStore> {
  store = new SqliteStore(await openSqlite({ type: 'sqlite', path: join(dir, 'jobs.db') }));
  await store.init();
  return store;
}

function claim(s: SqliteStore, limit: number, start?: number): Promise<Job[]> {
  return s.claim({ queue: 'q', limit, node: 'n1', now: NOW, ...(start === undefined ? {} : { start }) });
}

describe('SqliteStore claim (rows read among the candidates, not returned by the update)', () => {
  it('returns each claimed job as get reads it after the claim, whichever of its columns are set', async () => {
    const s = await open();
    const inserted = await s.insert([
      newJob(),
      newJob({ tags: ['a', 'b'] }),
      newJob({ meta: { owner: 'x' } }),
      newJob({ uniqueKey: 'u' }),
      newJob({ pinnedNode: 'n1' }),
      newJob({ serialKey: 's' }),
      newJob({ schedule: 'every-minute', tickKey: 'every-minute@1' }),
      newJob({ trace: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 } }),
      newJob({ preemptible: 'requeue' }),
      newJob({ timeout: 5_000, misfired: true, scheduledAt: new Date(NOW.getTime() - 1_000) }),
      newJob({ name: 'again' }),
      newJob({ name: 'dead' }),
    ]);
    // A job with errors and progress from an earlier attempt, and one resurrected from the dead (finished time cleared, budget set).
    const first = await claim(s, 12);
    const again = first.find((job) => job.name === 'again')!;
    const dead = first.find((job) => job.name === 'dead')!;
    await s.saveProgress({ id: again.id, attempt: 1 }, { done: 1 });
    await Promise.all([
      ...first.filter((job) => job !== again && job !== dead).map((job) => s.unclaim([{ id: job.id, attempt: job.attempt }])),
      s.retry({ id: again.id, attempt: 1 }, NOW, error),
      s.fail({ id: dead.id, attempt: 1 }, 'dead', error, NOW),
    ]);
    await s.resurrect(dead.id, NOW);

    // Three start now, the rest are claimed ahead.
    const claimed = await claim(s, 12, 3);
    expect(claimed.map((job) => job.id).sort()).toEqual(inserted.map(({ job }) => job.id).sort());
    for (const job of claimed) expect(job).toEqual(await s.get(job.id));
    expect(claimed.map((job) => job.startedAt === null)).toEqual([false, false, false, ...Array<boolean>(9).fill(true)]);
    expect(claimed.find((job) => job.name === 'again')).toMatchObject({ attempt: 2, progress: { done: 1 }, errors: [{ message: 'boom' }] });
  });

  it('finds a due job behind more than a page of held-back ones, in claim order, whatever the limit', async () => {
    const s = await open();
    await s.setScheduleState('paused', { paused: true });
    await s.insert(Array.from({ length: 300 }, (_, i) => newJob({ name: 'paused', priority: 1, args: { i } })));
    await s.insert(Array.from({ length: 400 }, (_, i) => newJob({ priority: 2 + (i % 3), args: { i } })));
    const one = await claim(s, 1);
    expect(one.map((job) => [job.name, job.priority])).toEqual([['work', 2]]);
    const rest = await claim(s, 1_000);
    expect(rest).toHaveLength(399);
    const keys = rest.map((job) => [job.priority, job.id.padStart(8, '0')].join(':'));
    expect(keys).toEqual([...keys].sort());
    expect(rest.map((job) => job.fencingToken)).toEqual(rest.map((_, i) => one[0]!.fencingToken + 1 + i));
    expect(await claim(s, 1)).toEqual([]);
  });
});
