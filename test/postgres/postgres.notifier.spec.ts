import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Notification } from '../../lib/notifier/notifier.js';
import { parseNotification } from '../../lib/notifier/notification.parse.js';
import { PostgresNotifier } from '../../lib/postgres/postgres.notifier.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import type { NewJob } from '../../lib/store/job.types.js';
import { createTestSchema, withClient } from '../support/postgres.js';
import { createTestContext, type TestContext } from '../support/postgres/context.js';
import { trackTimers, waitFor } from '../support/wait.js';

describe('PostgresNotifier', () => {
  let url: string;
  let schema: string;
  let drop: () => Promise<void>;
  const contexts: TestContext[] = [];

  beforeAll(async () => ({ url, schema, drop } = await createTestSchema('notifier')));
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await drop();
  });

  function context(node: string, applicationName?: string): TestContext {
    const ctx = createTestContext(url, schema, node, { applicationName });
    contexts.push(ctx);
    return ctx;
  }

  async function started(ctx: TestContext, healthInterval?: number): Promise<{ notifier: PostgresNotifier; received: Notification[] }> {
    const notifier = new PostgresNotifier(ctx, { ready: () => true, healthInterval });
    const received: Notification[] = [];
    notifier.subscribe((m) => received.push(m));
    await notifier.start();
    return { notifier, received };
  }

  it('delivers messages between notifiers on one channel (and back to the sender)', async () => {
    const a = await started(context('a'));
    const b = await started(context('b'));
    await a.notifier.notify({ type: 'insert', queue: 'default' });
    await b.notifier.notify({ type: 'cancel', jobId: '42' });
    await waitFor(() => a.received.length === 2 && b.received.length === 2, 3_000, 'both messages on both nodes');
    expect(b.received).toEqual([
      { type: 'insert', queue: 'default' },
      { type: 'cancel', jobId: '42' },
    ]);
    expect(a.received).toEqual(b.received);
    await Promise.all([a.notifier.stop(), b.notifier.stop()]);
  });

  it('an insert notice names the first new job of each queue in claim order', async () => {
    const ctx = context('first');
    const { notifier, received } = await started(ctx);
    // Its own context: closing the store closes it.
    const store = new PostgresStore(createTestContext(url, schema, 'first-store'), { type: 'postgres', url, schema });
    await store.init();
    const at = new Date('2026-01-01T00:00:00.000Z');
    const job = (queue: string, priority: number, runAt: Date): NewJob => ({ name: 'n', queue, args: {}, priority, maxAttempts: 1, timeout: null, runAt });
    const inserted = await store.insert([job('a', 5, at), job('a', 2, new Date(at.getTime() + 1)), job('a', 2, new Date(at.getTime() + 1)), job('b', 9, at)]);
    const ids = inserted.map((r) => r.job.id);
    await waitFor(() => received.filter((m) => m.type === 'insert').length === 2, 3_000, 'two insert notices');
    expect(received.filter((m) => m.type === 'insert').sort((x, y) => ((x as { queue: string }).queue < (y as { queue: string }).queue ? -1 : 1))).toEqual([
      { type: 'insert', queue: 'a', first: { priority: 2, runAt: at.getTime() + 1, id: ids[1] } },
      { type: 'insert', queue: 'b', first: { priority: 9, runAt: at.getTime(), id: ids[3] } },
    ]);
    await notifier.stop();
    await store.close();
  });

  it('ignores invalid and unknown payloads', async () => {
    const ctx = context('c');
    const { notifier, received } = await started(ctx);
    const bad = ['not json', '', '[1]', 'null', '"insert"', '{"type":"bogus"}', '{"type":"insert"}', '{"type":"cancel","jobId":7}'];
    await withClient(url, async (c) => {
      for (const payload of bad) await c.query('SELECT pg_notify($1, $2)', [ctx.channel, payload]);
      await c.query('SELECT pg_notify($1, $2)', [ctx.channel, '{"type":"queues","extra":true}']);
    });
    // Notifications from one session arrive in order: once the valid one is here, the others were dropped.
    await waitFor(() => received.length > 0, 3_000, 'the valid message');
    expect(received).toEqual([{ type: 'queues' }]);
    await notifier.stop();
  });

  it('reconnects after its connection is killed, emits resync, and receives again', async () => {
    const app = `notifier-kill-${schema}`;
    const ctx = context('k', app);
    const { notifier, received } = await started(ctx, 200);
    const pids = async () =>
      withClient(url, async (c) =>
        (await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [app])).rows.map((r) => r.pid),
      );
    const [before] = await pids();
    expect(before).toBeTypeOf('number');
    await withClient(url, (c) => c.query('SELECT pg_terminate_backend($1)', [before]));
    await waitFor(() => received.some((m) => m.type === 'resync'), 5_000, 'resync after reconnecting');
    const after = await pids();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    await ctx.pool.query('SELECT pg_notify($1, $2)', [ctx.channel, '{"type":"schedules"}']);
    await waitFor(() => received.some((m) => m.type === 'schedules'), 3_000, 'a message after reconnecting');
    await notifier.stop();
  });

  it('keeps retrying when the database is unreachable at start, then resyncs', async () => {
    const ctx = context('late');
    let reachable = false;
    const real = ctx.connect.bind(ctx);
    const flaky = { ...ctx, connect: () => (reachable ? real() : Promise.reject(new Error('ECONNREFUSED (simulated)'))) };
    const notifier = new PostgresNotifier(flaky, { ready: () => true, healthInterval: 200 });
    const received: Notification[] = [];
    notifier.subscribe((m) => received.push(m));
    await notifier.start();
    expect(notifier.listening).toBe(false);
    expect(notifier.listener).toBeNull();
    reachable = true;
    await waitFor(() => received.some((m) => m.type === 'resync'), 3_000, 'resync once connected');
    expect(notifier.listening).toBe(true);
    // The session offers name: a backend that is LISTENing on the channel.
    const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND query ILIKE $2', [notifier.listener, 'LISTEN%']);
    expect(rows[0].n).toBe(1);
    await ctx.pool.query('SELECT pg_notify($1, $2)', [ctx.channel, '{"type":"leader"}']);
    await waitFor(() => received.some((m) => m.type === 'leader'), 3_000, 'a message once connected');
    await notifier.stop();
    expect(notifier.listening).toBe(false);
    expect(notifier.listener).toBeNull();
  });

  it('stop() leaves no timers or sockets behind', async () => {
    const count = (type: string) => process.getActiveResourcesInfo().filter((t) => t === type).length;
    const timers = trackTimers();
    onTestFinished(() => timers.restore());
    const sockets = count('TCPSocketWrap');
    const ctx = createTestContext(url, schema, 'h');
    const { notifier, received } = await started(ctx, 100);
    await notifier.notify({ type: 'queues' });
    await waitFor(() => received.length === 1, 3_000, 'own message');
    expect(timers.pending()).toBeGreaterThan(0); // the health check
    await notifier.stop();
    // Its LISTEN connection is closed (what is left is the test pool's own idle client)…
    expect(count('TCPSocketWrap')).toBe(sockets + ctx.pool.totalCount);
    await ctx.close();
    // …and its health timer is gone (the pool's idle timers went with the pool).
    expect(timers.pending()).toBe(0);
  });

  it('parses every message type', () => {
    for (const m of [{ type: 'insert', queue: 'q' }, { type: 'cancel', jobId: '1' }, { type: 'resync' }, { type: 'leader' }, { type: 'schedules' }] as const) {
      expect(parseNotification(JSON.stringify(m))).toEqual(m);
    }
    expect(parseNotification(undefined)).toBeNull();
  });

  it('reads the first job of an insert notice when it is well formed, and leaves it out otherwise', () => {
    expect(parseNotification('{"type":"insert","queue":"q","first":[2,1767225600000,"41"]}')).toEqual({
      type: 'insert',
      queue: 'q',
      first: { priority: 2, runAt: 1767225600000, id: '41' },
    });
    for (const first of [null, [2, 1, 41], [2, '1', '41'], [2.5, 1, '41'], [2, 1], [2, 1, '0'], {}]) {
      expect(parseNotification(JSON.stringify({ type: 'insert', queue: 'q', first }))).toEqual({ type: 'insert', queue: 'q' });
    }
  });

  it('reads only a job id from a cancel notice, and only one that a bigint can be', () => {
    // An older node still sends the reason: it is ignored, never passed on.
    expect(parseNotification('{"type":"cancel","jobId":"7","reason":"by an older node"}')).toEqual({ type: 'cancel', jobId: '7' });
    for (const jobId of ['', '0', '07', 'x', '1 ', '-1', '12345678901234567890', 7, null]) {
      expect(parseNotification(JSON.stringify({ type: 'cancel', jobId }))).toBeNull();
    }
  });

  it('reads a push notice only when its node, queue, claim token and ids are well formed', () => {
    const push = { type: 'push', node: 'n1', queue: 'q', claim: '0b6f7c3e-5d1a-4c2b-9e8f-1a2b3c4d5e6f', ids: ['7', '8'] };
    expect(parseNotification(JSON.stringify(push))).toEqual(push);
    for (const bad of [{ node: 1 }, { queue: null }, { claim: 'not-a-uuid' }, { ids: [] }, { ids: ['7', '0'] }, { ids: [7] }, { ids: '7' }]) {
      expect(parseNotification(JSON.stringify({ ...push, ...bad }))).toBeNull();
    }
  });
});
