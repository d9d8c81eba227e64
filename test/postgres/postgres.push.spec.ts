import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseNotification } from '../../lib/notifier/notification.parse.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import type { Notification } from '../../lib/notifier/notifier.js';
import type { NewJob } from '../../lib/store/job.types.js';
import { createTestSchema } from '../support/postgres.js';
import { createTestContext } from '../support/postgres/context.js';
import { waitFor } from '../support/wait.js';

// Push to idle nodes, at the store: node B offers idle slots of a queue, an
// insert on node A claims its jobs for B and tells B which, and B reads them.
const NOW = new Date('2026-01-01T00:00:00.000Z');
const job = (over: Partial<NewJob> = {}): NewJob => ({ name: 'work', queue: 'q', args: {}, priority: 0, maxAttempts: 3, timeout: null, runAt: NOW, ...over });
const pushFromA = { push: { from: 'A', now: NOW } };

let schema: Awaited<ReturnType<typeof createTestSchema>>;
let a: PostgresStore;
let b: PostgresStore;
let listener: pg.Client;
const heard: Notification[] = [];

beforeAll(async () => {
  schema = await createTestSchema('push');
  const options = { type: 'postgres', url: schema.url, schema: schema.schema } as const;
  a = new PostgresStore(createTestContext(schema.url, schema.schema, 'A'), options);
  b = new PostgresStore(createTestContext(schema.url, schema.schema, 'B'), options);
  await a.init();
  await b.init();
  listener = new pg.Client({ connectionString: schema.url });
  await listener.connect();
  listener.on('notification', (n) => {
    const message = parseNotification(n.payload);
    if (message) heard.push(message);
  });
  await listener.query(`LISTEN "scheduler_${schema.schema}"`);
  // Offers name a live LISTEN session: the test's own stands in for each node's.
  for (const store of [a, b]) store.push!.hearWith(() => session(listener));
});

const session = (client: pg.Client): number => (client as pg.Client & { processID: number }).processID;

afterAll(async () => {
  await listener?.end();
  await a?.close();
  await b?.close();
  await schema?.drop();
});

const table = (name: string) => `"${schema.schema}".scheduler_${name}`;
const slots = async (node = 'B'): Promise<number | null> => {
  const { rows } = await listener.query<{ slots: number }>(`SELECT slots FROM ${table('offers')} WHERE queue = 'q' AND node = $1`, [node]);
  return rows[0]?.slots ?? null;
};

beforeEach(async () => {
  await listener.query(
    `TRUNCATE ${['jobs', 'ready', 'claims', 'job_keys', 'unique_keys', 'serial_running', 'queue_counts', 'dead_letters', 'offers', 'schedule_states'].map(table).join(', ')}`,
  );
  heard.length = 0;
});

describe('PostgreSQL push to idle nodes', () => {
  it('inserts a job claimed for the node that offered, tells that node, and lets it read the job', async () => {
    await b.push!.offer('q', 'B', 3);
    const [result] = await a.insert([job({ args: { n: 1 } })], pushFromA);
    expect(result!.job).toMatchObject({ state: 'running', node: 'B', attempt: 1, startedAt: null });
    expect(await slots()).toBe(2);

    await waitFor(() => heard.some((m) => m.type === 'push'), 5_000, 'the push notice');
    const push = heard.find((m) => m.type === 'push')!;
    expect(push).toMatchObject({ type: 'push', node: 'B', queue: 'q', ids: [result!.job.id] });
    expect(heard.some((m) => m.type === 'insert')).toBe(false);

    const claim = (push as { claim: string }).claim;
    const [taken] = await b.push!.take('B', claim, [result!.job.id], NOW);
    expect(taken).toMatchObject({ id: result!.job.id, args: { n: 1 }, state: 'running', node: 'B', startedAt: null, fencingToken: result!.job.fencingToken });
    // Another node, or another claim, reads nothing.
    expect(await a.push!.take('A', claim, [result!.job.id], NOW)).toEqual([]);
    expect(await b.push!.take('B', '00000000-0000-4000-8000-000000000000', [result!.job.id], NOW)).toEqual([]);

    // From there on it is a running job like any other: its ack is fenced by its attempt.
    await b.complete({ id: taken!.id, attempt: 1 }, { ok: true }, NOW);
    expect(await a.get(taken!.id)).toMatchObject({ state: 'completed', result: { ok: true } });
    expect((await a.queueCounts(NOW)).find((c) => c.queue === 'q')).toMatchObject({ running: 0, available: 0, completed: 1 });
  });

  it('inserts as usual when no other node offers enough live slots', async () => {
    const available = async (jobs: NewJob[]) => (await a.insert(jobs, pushFromA)).map((r) => r.job.state);
    expect(await available([job()])).toEqual(['available']);

    await a.push!.offer('q', 'A', 5); // the inserting node's own offer is never taken
    expect(await available([job()])).toEqual(['available']);

    await b.push!.offer('q', 'B', 1);
    expect(await available([job(), job()])).toEqual(['available', 'available']); // more jobs than slots
    expect(await slots()).toBe(1);

    await listener.query(`UPDATE ${table('offers')} SET expires_at = now() - interval '1 second' WHERE node = 'B'`);
    expect(await available([job()])).toEqual(['available']); // expired: its node may be dead
    expect(heard.filter((m) => m.type === 'push')).toEqual([]);
  });

  it('never lets a push overtake a due job that waits, nor push delayed, pinned or serial jobs', async () => {
    await b.push!.offer('q', 'B', 5);
    await a.insert([job({ name: 'older' })]); // plain insert: waits in the queue
    expect((await a.insert([job()], pushFromA))[0]!.job.state).toBe('available');
    await listener.query(`TRUNCATE ${table('ready')}, ${table('jobs')}`);

    const later = new Date(NOW.getTime() + 60_000);
    for (const over of [{ runAt: later }, { pinnedNode: 'B' }, { serialKey: 'k' }]) {
      expect((await a.insert([job(over)], pushFromA))[0]!.job.state).toBe('available');
    }
    expect(await slots()).toBe(5);
  });

  it('pushes a batch of up to 100 jobs in one notice, and inserts a larger one as usual', async () => {
    await b.push!.offer('q', 'B', 500);
    const many = (count: number) => Array.from({ length: count }, (_, n) => job({ args: { n } }));
    expect(new Set((await a.insert(many(100), pushFromA)).map((r) => r.job.state))).toEqual(new Set(['running']));
    await waitFor(() => heard.some((m) => m.type === 'push'), 5_000, 'the push notice');
    expect((heard.find((m) => m.type === 'push') as { ids: string[] }).ids).toHaveLength(100);
    expect(await slots()).toBe(400);
    expect(new Set((await a.insert(many(101), pushFromA)).map((r) => r.job.state))).toEqual(new Set(['available']));
    expect(await slots()).toBe(400);
  });

  it('leaves a job of a paused name available', async () => {
    await b.push!.offer('q', 'B', 5);
    await a.setScheduleState('work', { paused: true });
    expect((await a.insert([job()], pushFromA))[0]!.job.state).toBe('available');
    expect(heard.filter((m) => m.type === 'push')).toEqual([]);
  });

  it('keeps unique keys: a duplicate of a pushed job is refused', async () => {
    await b.push!.offer('q', 'B', 5);
    const [first] = await a.insert([job({ uniqueKey: 'u1' })], pushFromA);
    const [second] = await a.insert([job({ uniqueKey: 'u1' })], pushFromA);
    expect(first!.job.state).toBe('running');
    expect(second).toMatchObject({ inserted: false, conflict: 'unique', job: { id: first!.job.id } });
  });

  it('gives a push that was never read back at the rescue, its attempt not counted', async () => {
    await b.push!.offer('q', 'B', 5);
    const [result] = await a.insert([job()], pushFromA);
    const rescued = await a.rescue(new Date(NOW.getTime() + 1), new Date(NOW.getTime() + 1));
    expect(rescued.map((j) => j.id)).toEqual([result!.job.id]);
    expect(await a.get(result!.job.id)).toMatchObject({ state: 'available', attempt: 1, maxAttempts: 4 });
    expect((await a.get(result!.job.id))!.errors.at(-1)).toMatchObject({ kind: 'unstarted' });
  });

  it('reads nothing of a pushed job cancelled before its node took it, and hands back one it cannot run', async () => {
    await b.push!.offer('q', 'B', 5);
    const [cancelled] = await a.insert([job()], pushFromA);
    await a.cancel(cancelled!.job.id, NOW, 'no longer wanted');
    await waitFor(() => heard.some((m) => m.type === 'push'), 5_000, 'the push notice');
    const { claim } = heard.find((m) => m.type === 'push') as { claim: string };
    expect(await b.push!.take('B', claim, [cancelled!.job.id], NOW)).toEqual([]);

    const [handed] = await a.insert([job()], pushFromA);
    expect(await b.unclaim([{ id: handed!.job.id, attempt: 1 }])).toBe(1);
    expect(await a.get(handed!.job.id)).toMatchObject({ state: 'available', attempt: 0, node: null });
    expect((await a.claim({ queue: 'q', limit: 5, node: 'A', now: NOW })).map((j) => j.id)).toEqual([handed!.job.id]);
  });

  it('withdraws an offer at 0 slots, and every offer of a store when it closes', async () => {
    await b.push!.offer('q', 'B', 4);
    await b.push!.offer('q', 'B', 0);
    expect(await slots()).toBeNull();

    const c = new PostgresStore(createTestContext(schema.url, schema.schema, 'C'), { type: 'postgres', url: schema.url, schema: schema.schema });
    c.push!.hearWith(() => session(listener));
    await c.init();
    await c.push!.offer('q', 'C', 2);
    await c.push!.offer('other', 'C', 2);
    expect(await slots('C')).toBe(2);
    await c.close();
    const { rows } = await listener.query(`SELECT * FROM ${table('offers')} WHERE node = 'C'`);
    expect(rows).toEqual([]);
  });

  it('offers nothing while the node does not hear notifications (a push would wait for the rescue)', async () => {
    let listening = false;
    b.push!.hearWith(() => (listening ? session(listener) : null));
    try {
      expect(await b.push!.offer('q', 'B', 4)).toBe(0);
      expect(await slots()).toBeNull();
      listening = true;
      expect(await b.push!.offer('q', 'B', 4)).toBe(4);
      expect(await slots()).toBe(4);
    } finally {
      b.push!.hearWith(() => session(listener));
    }
  });

  it('pushes nothing to an offer whose LISTEN session has ended (a node that died), though the offer has not expired', async () => {
    const doomed = new pg.Client({ connectionString: schema.url });
    await doomed.connect();
    const pid = session(doomed);
    b.push!.hearWith(() => pid);
    try {
      expect(await b.push!.offer('q', 'B', 4)).toBe(4);
      await doomed.end();
      await waitFor(async () => (await listener.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0, 5_000, 'the session to end');
      const [stored] = await a.insert([job()], pushFromA);
      expect(stored!.job.state).toBe('available');
      expect(await slots()).toBe(4);
      expect(heard.filter((m) => m.type === 'push')).toEqual([]);
    } finally {
      b.push!.hearWith(() => session(listener));
    }
  });

  it('has no push with push: false', async () => {
    const off = new PostgresStore(createTestContext(schema.url, schema.schema, 'D'), { type: 'postgres', url: schema.url, schema: schema.schema, push: false });
    try {
      await off.init();
      expect(off.push).toBeUndefined();
      await b.push!.offer('q', 'B', 5);
      expect((await off.insert([job()], { push: { from: 'D', now: NOW } }))[0]!.job.state).toBe('available');
    } finally {
      await off.close();
    }
  });
});
