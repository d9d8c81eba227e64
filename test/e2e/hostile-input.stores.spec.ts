import { Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, PayloadTooLargeError, Worker, type JobContext, type JobWorker, type JsonObject } from '../../lib/index.js';
import { Pipeline } from '../support/pipeline.workflow.js';
import { CSRF, type DashboardApp, webDashboardPerTest } from '../support/dashboard-app.js';
import { TEST_STORES } from '../support/stores.js';

@Worker({ name: 'mail' })
class Mail implements JobWorker {
  perform(_ctx: JobContext) {}
}

const API = '/scheduler/api';
/** Past the bigint range of PostgreSQL's ids, within the 19 digits a cursor may have. */
const PAST_INT8 = ['9223372036854775808', '9999999999999999999'];
const NUL = 'a\u0000b';
const LONE = 'a\uD800';

/**
 * Hostile input at the public entry points (the service and the dashboard's
 * HTTP API) gets the same answer on every store: a typed error (400) or an
 * empty answer, never a driver's error (500), and a refused call leaves
 * nothing behind.
 */
describe.each(TEST_STORES)('hostile input on the $kind store', ({ kind, open }) => {
  const webDashboard = webDashboardPerTest(open, `hostile_${kind}`);

  const start = async (): Promise<DashboardApp> => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    // A web node: it knows no queue names, so any name reaches the store.
    const d = await webDashboard({ providers: [Mail, Pipeline] });
    return d;
  };

  const refusal = async (call: Promise<unknown>, argument: string): Promise<void> => {
    await expect(call).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(call).rejects.toMatchObject({ argument });
  };

  it('a keyset cursor past the bigint range orders like any other: every job before it, none after', async () => {
    const app = await start();
    await app.scheduler.enqueue('mail', { n: 1 });
    await app.scheduler.enqueue('mail', { n: 2 });
    const run = await app.scheduler.workflows.start('pipeline');
    const all = (await app.scheduler.listJobs()).map((j) => j.id);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const afterId of PAST_INT8) {
      expect((await app.scheduler.listJobs({ afterId })).map((j) => j.id)).toEqual(all);
      expect(await app.scheduler.listJobs({ afterId, order: 'asc' })).toEqual([]);
      const page = await app.http().get(`${API}/jobs`).query({ cursor: afterId }).expect(200);
      expect(page.body.jobs.map((j: { id: string }) => j.id)).toEqual(all);
      const runs = await app.http().get(`${API}/workflows`).query({ cursor: afterId }).expect(200);
      expect(runs.body.runs.map((r: { id: string }) => r.id)).toEqual([run]);
    }
  });

  it('refuses filter text no stored job can hold (U+0000, a lone surrogate) with a typed error: 400 on the dashboard', async () => {
    const app = await start();
    await app.scheduler.enqueue('mail', {}, { tags: ['t'] });
    for (const bad of [NUL, LONE]) {
      await refusal(app.scheduler.listJobs({ queue: bad }), 'queue');
      await refusal(app.scheduler.listJobs({ name: bad }), 'nameOrSchedule');
      await refusal(app.scheduler.deadLetters.list({ queue: bad }), 'queue');
      await refusal(app.scheduler.deadLetters.list({ name: bad }), 'name');
      await refusal(app.scheduler.deadLetters.retryAll({ queue: bad }), 'queue');
      const status = async (path: string, query: Record<string, string>) => [path, query, (await app.http().get(`${API}/${path}`).query(query)).status];
      // A lone surrogate reaches a query string only escaped in a quoted search term (raw, it is sent as U+FFFD).
      const raw =
        bad === NUL
          ? [
              status('jobs', { queue: bad }),
              status('jobs', { name: bad }),
              status('dead-letters', { queue: bad }),
              status('dead-letters', { name: bad }),
              status('workflows', { name: bad }),
              status('jobs', { q: `args.${bad}:1` }),
            ]
          : [];
      const answers = [
        ...raw,
        status('jobs', { q: JSON.stringify(bad) }),
        ...['queue', 'name', 'tag', 'args.a'].map((key) => status('jobs', { q: `${key}:${JSON.stringify(bad)}` })),
      ];
      for (const [path, query, code] of await Promise.all(answers)) expect({ path, query, code }).toEqual({ path, query, code: 400 });
    }
    // Text that is not a string, from a JS caller.
    await refusal(app.scheduler.listJobs({ queue: {} as never }), 'queue');
    await refusal(app.scheduler.listJobs({ name: {} as never }), 'nameOrSchedule');
    // A parameter given twice.
    for (const key of ['state', 'name', 'cursor', 'limit'])
      await app
        .http()
        .get(`${API}/workflows`)
        .query({ [key]: ['running', 'paused'] })
        .expect(400);
    // Odd but storable text is just searched for.
    expect(await app.scheduler.listJobs({ queue: 'q:{x}*' })).toEqual([]);
    await app.http().get(`${API}/jobs`).query({ q: 'tag:"t"' }).expect(200);
  });

  it('refuses a queue name no job could have in pause, resume and scale, and in a runtime schedule: nothing is stored', async () => {
    const app = await start();
    for (const bad of [NUL, LONE, 'q'.repeat(201)]) {
      await refusal(app.scheduler.pauseQueue(bad), 'queue');
      await refusal(app.scheduler.resumeQueue(bad), 'queue');
      await refusal(app.scheduler.scaleQueue(bad, 2), 'queue');
      await refusal(app.scheduler.insert({ name: 'tick', handler: 'mail', every: '1h', queue: bad }), 'queue');
    }
    await app.http().post(`${API}/queues/a%00b/pause`).set(CSRF).expect(400);
    await app
      .http()
      .post(`${API}/queues/${'q'.repeat(201)}/resume`)
      .set(CSRF)
      .expect(400);
    expect((await app.scheduler.queueStats()).map((q) => q.queue)).toEqual([]);
    expect((await app.scheduler.all()).map((j) => j.name).sort()).not.toContain('tick');
    // A storable one is still accepted, Redis key syntax and all.
    await app.scheduler.pauseQueue('q:{x}*');
    expect((await app.scheduler.queueStats('q:{x}*')).paused).toBe(true);
  });

  it('answers an id no job can have with the same typed error at every call that takes a job id', async () => {
    const app = await start();
    for (const id of ['abc', NUL, '12a', '', '1'.repeat(20)]) {
      await refusal(app.scheduler.findJob(id), 'id');
      await refusal(app.scheduler.runJobNow(id), 'id');
      await refusal(app.scheduler.deleteJob(id), 'id');
      await refusal(app.scheduler.deadLetters.get(id), 'id');
      await refusal(app.scheduler.deadLetters.retry(id), 'id');
      await refusal(app.scheduler.deadLetters.delete(id), 'id');
    }
  });

  it('refuses a prune duration longer than a Date reaches', async () => {
    const app = await start();
    await refusal(app.scheduler.deadLetters.prune({ olderThan: '1000000000d' }), 'olderThan');
    await refusal(app.scheduler.deadLetters.prune({ olderThan: 1e300 }), 'olderThan');
  });

  it('refuses a workflow start time outside years 1 to 9999 before creating the run: no run is left waiting', async () => {
    const app = await start();
    for (const at of [new Date('+010000-01-01T00:00:00.000Z'), new Date('-000001-01-01T00:00:00.000Z')])
      await refusal(app.scheduler.workflows.scheduleExecution('pipeline', { at }), 'at');
    expect(await app.scheduler.workflows.listRunning()).toEqual([]);
    expect((await app.http().get(`${API}/workflows`).expect(200)).body.runs).toEqual([]);
  });

  it('refuses a workflow context no store can keep (U+0000, a lone surrogate, over maxPayloadBytes) before creating the run', async () => {
    const app = await start();
    const contexts: JsonObject[] = [{ a: NUL }, { [LONE]: 1 }, { nested: { list: [NUL] } }];
    for (const context of contexts) await refusal(app.scheduler.workflows.start('pipeline', context), 'context');
    await expect(app.scheduler.workflows.start('pipeline', { blob: 'x'.repeat(1_100_000) })).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect((await app.http().get(`${API}/workflows`).expect(200)).body.runs).toEqual([]);
  });
});
