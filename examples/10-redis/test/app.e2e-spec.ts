import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { SchedulerModule } from 'nestjs-scheduler';
import { FakeClock, SchedulerTester } from 'nestjs-scheduler/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { AppModule, schedulerModule, schedulerOptions } from '../src/app.module.js';

/** Deletes every key of a key prefix (the store's keys are `{prefix}:…`). */
async function deleteKeys(keyPrefix: string): Promise<number> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${keyPrefix}}:*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
  return deleted;
}

describe('Redis store: a queue, a cron and unique jobs (e2e)', () => {
  let app: INestApplication;
  let clock: FakeClock;
  let keyPrefix: string;

  /** Boots the app on the test's own key prefix, with the scheduler on a FakeClock; resolves once this node leads. */
  const boot = async (at: string) => {
    keyPrefix = `example-10-${randomBytes(4).toString('hex')}`;
    clock = new FakeClock(new Date(at));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideModule(schedulerModule)
      .useModule(SchedulerModule.forRoot({ ...schedulerOptions(keyPrefix), clock }))
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
    const tester = new SchedulerTester(app);
    await tester.leading(); // the lease is taken in the background: the cron is planned from then on
    return { http: request(app.getHttpServer()), tester };
  };

  afterEach(async () => {
    await app.close();
    expect(await deleteKeys(keyPrefix)).toBeGreaterThan(0); // the store wrote under the test's prefix, and nothing is left
  });

  it('runs a second request for an account within 10 minutes as the first job (duplicate), and a later one as a new job', async () => {
    const { http, tester } = await boot('2026-01-05T10:20:00Z');

    const first = await http.post('/accounts/2/sync').expect(201);
    const again = await http.post('/accounts/2/sync').expect(201);
    expect(first.body.duplicate).toBe(false);
    expect(again.body).toEqual({ jobId: first.body.jobId, duplicate: true });
    await tester.drainQueue();
    tester.assertCompleted('sync-account', 1);

    await clock.advance('5m');
    expect((await http.post('/accounts/2/sync').expect(201)).body).toEqual({ jobId: first.body.jobId, duplicate: true }); // completed, but 5 min ago
    await clock.advance('5m');
    const later = await http.post('/accounts/2/sync').expect(201);
    expect(later.body.duplicate).toBe(false);
    expect(later.body.jobId).not.toBe(first.body.jobId);
    await tester.drainQueue();

    tester.assertCompleted('sync-account', 2);
    expect((await http.get('/accounts').expect(200)).body).toEqual([
      { id: 1, syncs: 0, lastSyncedAt: null },
      { id: 2, syncs: 2, lastSyncedAt: '2026-01-05T10:30:00.000Z' },
      { id: 3, syncs: 0, lastSyncedAt: null },
    ]);
    await http.post('/accounts/9/sync').expect(404);
  });

  it('enqueues every account on the hour, except one synced in the last 10 minutes', async () => {
    const { http, tester } = await boot('2026-01-05T10:55:00Z');
    await http.post('/accounts/3/sync').expect(201);
    await tester.drainQueue();

    await clock.advance('5m'); // 11:00: the leader plans sync-all's tick
    await tester.drainQueue();

    tester.assertCompleted('sync-all', 1);
    expect(tester.runs('sync-all')[0]?.result).toEqual({ enqueued: 2, duplicates: 1 });
    tester.assertCompleted('sync-account', 3);
    expect((await http.get('/accounts').expect(200)).body).toEqual([
      { id: 1, syncs: 1, lastSyncedAt: '2026-01-05T11:00:00.000Z' },
      { id: 2, syncs: 1, lastSyncedAt: '2026-01-05T11:00:00.000Z' },
      { id: 3, syncs: 1, lastSyncedAt: '2026-01-05T10:55:00.000Z' },
    ]);
    expect((await http.get('/sync').expect(200)).body).toEqual({
      queue: { available: 0, scheduled: 0, running: 0, completed: 3, dead: 0 },
      syncAll: { lastRunAt: '2026-01-05T11:00:00.000Z', nextRunAt: '2026-01-05T12:00:00.000Z' },
    });
  });
});
