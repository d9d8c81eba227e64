import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SchedulerModule } from 'nestjs-scheduler';
import { FakeClock, SchedulerTester } from 'nestjs-scheduler/testing';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppModule, schedulerModule, schedulerOptions } from '../src/app.module.js';

const start = new Date('2026-03-02T09:00:00Z');

describe('SQLite on the app’s TypeORM DataSource (e2e)', () => {
  let dir: string;
  let app: INestApplication | undefined;
  let clock: FakeClock;

  /** Boots the app as a user would, on the test's file, with the scheduler on a FakeClock (the same options otherwise). */
  const boot = async (at = start): Promise<{ app: INestApplication; tester: SchedulerTester }> => {
    clock = new FakeClock(at);
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideModule(schedulerModule)
      .useModule(SchedulerModule.forRootAsync({ inject: [DataSource], useFactory: (ds: DataSource) => ({ ...schedulerOptions(ds), clock }) }))
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
    return { app, tester: new SchedulerTester(app) };
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'example-09-sqlite-'));
    process.env.SQLITE_FILE = join(dir, 'shop.db');
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    delete process.env.SQLITE_FILE;
    await rm(dir, { recursive: true, force: true });
  });

  it('saves an order and enqueues its jobs in one transaction; the shipping runs once it is committed', async () => {
    const { app, tester } = await boot();
    const http = request(app.getHttpServer());

    const placed = await http.post('/orders').send({ sku: 'notebook', quantity: 2 }).expect(201);
    expect(placed.body).toMatchObject({ id: 1, sku: 'notebook', quantity: 2 });
    await tester.drainQueue();

    tester.assertCompleted('ship-order', 1);
    tester.assertNotRun('request-review'); // due in 3 days
    expect(tester.runs('ship-order')[0]?.result).toEqual({ shipped: 1 });
    expect((await http.get('/orders').expect(200)).body).toEqual([{ id: 1, sku: 'notebook', quantity: 2, status: 'shipped', reviewRequestedAt: null }]);
    expect((await http.get('/stock').expect(200)).body).toEqual([{ sku: 'notebook', stock: 8 }]);
    expect((await http.get('/jobs').expect(200)).body).toEqual({ available: 0, scheduled: 1, running: 0, completed: 1, dead: 0 });
  });

  it('rolls back the order and both of its jobs when the stock is short', async () => {
    const { app, tester } = await boot();
    const http = request(app.getHttpServer());

    const refused = await http.post('/orders').send({ sku: 'notebook', quantity: 11 }).expect(409);
    expect(refused.body.message).toBe('not enough notebook in stock for 11');
    expect(await tester.drainQueue()).toEqual([]);

    expect((await http.get('/orders').expect(200)).body).toEqual([]);
    expect((await http.get('/stock').expect(200)).body).toEqual([{ sku: 'notebook', stock: 10 }]);
    expect((await http.get('/jobs').expect(200)).body).toEqual({ available: 0, scheduled: 0, running: 0, completed: 0, dead: 0 });
  });

  it('keeps the review request in the file through a restart, and runs it when it is due', async () => {
    const first = await boot();
    await request(first.app.getHttpServer()).post('/orders').send({ sku: 'notebook', quantity: 1 }).expect(201);
    await first.tester.drainQueue();
    first.tester.assertCompleted('ship-order', 1);
    await first.app.close();
    app = undefined;

    // The app starts again on the same file 3 days later, a minute before the review request is due.
    const second = await boot(new Date('2026-03-05T08:59:00Z'));
    const http = request(second.app.getHttpServer());
    expect((await http.get('/jobs').expect(200)).body).toEqual({ available: 0, scheduled: 1, running: 0, completed: 1, dead: 0 });
    await clock.advance('1m');
    await second.tester.drainQueue();

    second.tester.assertCompleted('request-review', 1);
    second.tester.assertNotRun('ship-order');
    expect((await http.get('/orders').expect(200)).body).toEqual([
      { id: 1, sku: 'notebook', quantity: 1, status: 'shipped', reviewRequestedAt: '2026-03-05T09:00:00.000Z' },
    ]);
    expect((await http.get('/jobs').expect(200)).body).toEqual({ available: 0, scheduled: 0, running: 0, completed: 2, dead: 0 });
  });
});
