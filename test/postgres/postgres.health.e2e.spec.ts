import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SchedulerModule, SchedulerService, type SchedulerModuleOptions } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { T0 } from '../support/app.js';
import { createTestSchema } from '../support/postgres.js';

type Db = Awaited<ReturnType<typeof createTestSchema>>;

describe('health on PostgreSQL: the leader check across two nodes', () => {
  let db: Db;
  const apps: TestingModule[] = [];
  const start = async (options: Partial<SchedulerModuleOptions>): Promise<TestingModule> => {
    const app = await Test.createTestingModule({
      imports: [SchedulerModule.forRoot({ store: { type: 'postgres', url: db.url, schema: db.schema }, peer: { leaseTtl: '3s' }, ...options })],
    }).compile();
    await app.init();
    apps.push(app);
    return app;
  };
  beforeAll(async () => {
    db = await createTestSchema('health');
  });
  afterAll(() => db.drop());
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    vi.restoreAllMocks();
  });

  it('up while a node holds the lease; when it stops, leaderless is degraded until 2 × leaseTtl, then down; a new leader brings it up', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const leader = await start({ nodeName: 'node-a' });
    // The observer never leads, and judges time on a clock of its own (the lease expiry is judged by PostgreSQL).
    const clock = new FakeClock(T0);
    const observer = (await start({ nodeName: 'node-b', peer: false, queues: false, clock })).get(SchedulerService);
    // `peer: false` takes no leaseTtl, so the grace (2 × the cluster's 3 s lease) is given.
    const leaderCheck = async () => (await observer.health({ checks: ['leader'], leader: { graceMs: 6_000 } })).checks.leader;

    expect(await leaderCheck()).toEqual({ status: 'up', leader: 'node-a' });
    expect((await observer.health({ checks: ['leader'] })).leader).toEqual({ self: false, node: 'node-a' });

    // A clean stop releases the lease at once; the observer's cached read (5 s) is then stale.
    await leader.close();
    apps.splice(apps.indexOf(leader), 1);
    expect((await leaderCheck())?.status).toBe('up');
    await clock.advance('5s');
    expect(await leaderCheck()).toMatchObject({ status: 'degraded', leader: null, leaderlessMs: 0, graceMs: 6_000 });
    await clock.advance('5s');
    expect(await leaderCheck()).toMatchObject({ status: 'degraded', leaderlessMs: 5_000 });
    await clock.advance('1s');
    expect(await leaderCheck()).toMatchObject({ status: 'down', leaderlessMs: 6_000 });
    expect((await observer.health({ checks: ['leader'], leader: { graceMs: 6_000 } })).status).toBe('down');

    await start({ nodeName: 'node-c' });
    await clock.advance('5s');
    expect(await leaderCheck()).toEqual({ status: 'up', leader: 'node-c' });
  });

  it('store, lag and the readiness preset read the shared database', async () => {
    const clock = new FakeClock(T0);
    const web = (await start({ nodeName: 'web', peer: false, queues: false, clock })).get(SchedulerService);
    const ready = await web.health({ checks: 'readiness' });
    expect(ready).toMatchObject({ status: 'up', checks: { store: { status: 'up' }, started: { status: 'up' }, draining: { status: 'up' } } });
    expect((await web.health({ checks: 'startup' })).status).toBe('up');
    expect((await web.health({ checks: ['lag', 'stuck', 'deadLetters'] })).status).toBe('up');
  });
});
