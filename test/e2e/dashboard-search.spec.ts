import { Injectable } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { Scheduled, Worker, type JobContext, type JobWorker } from '../../lib/index.js';
import type { DashboardJobSearchPage, DashboardSearchSuggestions, SchedulerDashboardOptions } from '../../lib/dashboard/index.js';
import { type DashboardApp, webDashboardPerTest } from '../support/dashboard-app.js';
import { TEST_STORES } from '../support/stores.js';

@Worker({ name: 'SendMail', tags: ['mail'] })
class SendMail implements JobWorker {
  perform() {}
}

@Worker({ name: 'charge', queue: 'Billing', maxRetries: 0 })
class Charge implements JobWorker<{ fail?: boolean }> {
  perform(ctx: JobContext<{ fail?: boolean }>) {
    if (ctx.args.fail) throw new Error('declined');
  }
}

@Injectable()
class Reports {
  @Scheduled({ name: 'billing-report', cron: '0 3 * * *' })
  report() {}
}

const API = '/scheduler/api';

describe.each(TEST_STORES)('dashboard search on the $kind store', ({ kind, open }) => {
  const webDashboard = webDashboardPerTest(open, `dsearch_${kind}`);

  const start = async (dashboard: SchedulerDashboardOptions = { allowUnauthenticated: true }) => {
    const d = await webDashboard({ providers: [SendMail, Charge, Reports], dashboard });
    return d;
  };

  const search = async (app: DashboardApp, query: Record<string, string>): Promise<DashboardJobSearchPage> =>
    (await app.http().get(`${API}/jobs`).query(query).expect(200)).body as DashboardJobSearchPage;
  const ids = (page: DashboardJobSearchPage) => page.jobs.map((job) => job.id);

  it('finds jobs by args (typed, nested), free text, queue, state, tag and name, ANDed, paged by cursor', async () => {
    const app = await start();
    const a = await app.scheduler.enqueue('SendMail', { userId: 42, user: { email: 'a b@x.io' } });
    const b = await app.scheduler.enqueue('SendMail', { userId: '42', user: { email: 'b@x.io' } }, { tags: ['vip'] });
    const c = await app.scheduler.enqueue('charge', { userId: 42, fail: true });
    const e = await app.scheduler.enqueue('charge', { userId: 7 });
    await app.tester.drainQueue('Billing');

    expect(ids(await search(app, { q: 'args.userId:42' }))).toEqual([c.id, a.id]);
    expect(ids(await search(app, { q: 'args.userId:"42"' }))).toEqual([b.id]);
    expect(ids(await search(app, { q: 'args.user.email:"a b@x.io"' }))).toEqual([a.id]);
    expect(ids(await search(app, { q: 'args.user.email:nobody' }))).toEqual([]);
    expect(ids(await search(app, { q: 'sendmail' }))).toEqual([b.id, a.id]);
    expect(ids(await search(app, { q: 'queue:Billing state:dead' }))).toEqual([c.id]);
    expect(ids(await search(app, { q: 'args.userId:42 state:completed' }))).toEqual([]);
    // An enqueue's tags replace its handler's.
    expect(ids(await search(app, { q: 'tag:mail' }))).toEqual([a.id]);
    expect(ids(await search(app, { q: 'tag:vip' }))).toEqual([b.id]);
    expect(ids(await search(app, { q: 'tag:mail tag:vip' }))).toEqual([]);
    expect(ids(await search(app, { q: 'name:charge', state: 'completed' }))).toEqual([e.id]);
    expect(ids(await search(app, { q: 'args.userId:42', queue: 'default' }))).toEqual([a.id]);

    const first = await search(app, { q: 'args.userId:42', limit: '1' });
    expect(first).toMatchObject({ nextCursor: c.id, limit: 1, total: { count: 2, capped: false } });
    const second = await search(app, { q: 'args.userId:42', limit: '1', cursor: first.nextCursor! });
    expect(ids(second)).toEqual([a.id]);
    expect(second).toMatchObject({ nextCursor: null, total: { count: 2, capped: false } });
  });

  it('jumps to a job by id only when it meets the other terms', async () => {
    const app = await start();
    const a = await app.scheduler.enqueue('SendMail', { userId: 1 });
    expect(await search(app, { q: `id:${a.id}` })).toMatchObject({
      jobs: [{ id: a.id, name: 'SendMail' }],
      nextCursor: null,
      total: { count: 1, capped: false },
    });
    expect(ids(await search(app, { q: `id:${a.id} args.userId:1 mail` }))).toEqual([a.id]);
    expect(await search(app, { q: `id:${a.id} queue:Billing` })).toMatchObject({ jobs: [], total: { count: 0, capped: false } });
    expect(ids(await search(app, { q: 'id:999999999' }))).toEqual([]);
  });

  it('caps the total at countCap', async () => {
    const app = await start({ allowUnauthenticated: true, countCap: 3 });
    // name=: the schedule's planned ticks are jobs too.
    for (let i = 0; i < 3; i++) await app.scheduler.enqueue('SendMail', { i });
    expect((await search(app, { name: 'SendMail' })).total).toEqual({ count: 3, capped: false });
    await app.scheduler.enqueue('SendMail', { i: 3 });
    const page = await search(app, { name: 'SendMail', limit: '2' });
    expect(page.jobs).toHaveLength(2);
    expect(page.total).toEqual({ count: 3, capped: true });
    expect((await search(app, { q: 'args.i:3' })).total).toEqual({ count: 1, capped: false });
  });

  it('answers 400 naming the bad term', async () => {
    const app = await start();
    const bad = async (q: string) => (await app.http().get(`${API}/jobs`).query({ q }).expect(400)).body as { reason: string; message: string };
    expect(await bad('queue:a color:red')).toMatchObject({ reason: 'invalid', message: expect.stringContaining('unknown qualifier "color:" in color:red') });
    expect((await bad('args.email:"open')).message).toContain('unterminated quote in args.email:"open');
    expect((await bad('state:lost')).message).toContain('state:lost: unknown state "lost"');
    await app.http().get(`${API}/jobs`).query({ cursor: 'x1' }).expect(400);
  });

  it('suggests queues, job and schedule names and tags by prefix, from what the node knows', async () => {
    const app = await start();
    await app.scheduler.enqueue('SendMail', {}, { queue: 'audit' });
    // A queue no handler names: known from the overview's snapshot (read by the first suggestion).
    const suggest = async (prefix: string) => (await app.http().get(`${API}/search/suggest`).query({ prefix }).expect(200)).body as DashboardSearchSuggestions;
    expect(await suggest('b')).toEqual({ prefix: 'b', queues: ['Billing'], names: ['billing-report'], tags: [] });
    expect(await suggest('S')).toEqual({ prefix: 'S', queues: [], names: ['SendMail'], tags: [] });
    expect(await suggest('')).toEqual({ prefix: '', queues: ['Billing', 'audit', 'default'], names: ['SendMail', 'billing-report', 'charge'], tags: ['mail'] });
    expect(await suggest('zz')).toEqual({ prefix: 'zz', queues: [], names: [], tags: [] });
    await app
      .http()
      .get(`${API}/search/suggest`)
      .query({ prefix: 'x'.repeat(201) })
      .expect(400);
  });
});
