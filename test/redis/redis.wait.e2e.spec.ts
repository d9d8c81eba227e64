import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Scheduled, SchedulerModule, SchedulerService, StoreUnavailableError, type JobContext } from '../../lib/index.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

@Injectable()
class Jobs {
  records: unknown[] = [];
  ticks = 0;
  @Scheduled({ name: 'record' })
  record(ctx: JobContext) {
    this.records.push(ctx.args);
  }
  @Scheduled({ every: '1s', name: 'tick' })
  tick() {
    this.ticks++;
  }
}

/** A node that boots while Redis cannot be reached (a server that starts after the app, as in a cluster roll-out). */
describe('Redis store: waitForDatabase', () => {
  let keys = testKeyPrefix('wait');
  let proxy: TcpProxy;
  const apps: TestingModule[] = [];

  const boot = async (waitForDatabase?: boolean): Promise<TestingModule> => {
    const app = await Test.createTestingModule({
      imports: [
        SchedulerModule.forRoot({
          store: { type: 'redis', url: proxy.urlFor(redisUrl()), keyPrefix: keys.keyPrefix, warnWithoutPersistence: false, waitForDatabase },
          pollInterval: '200ms',
          peer: { leaseTtl: '3s' },
        }),
      ],
      providers: [Jobs],
    }).compile();
    apps.push(app);
    await app.init();
    return app;
  };

  beforeEach(async () => {
    proxy = await TcpProxy.start(redisUrl());
    proxy.stopListening();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await proxy.close();
    await keys.drop();
    keys = testKeyPrefix('wait');
  });

  it('starts without the server, refuses calls with StoreUnavailableError, and leads, plans and runs once it answers', async () => {
    const app = await boot();
    const scheduler = app.get(SchedulerService);
    await expect(scheduler.enqueue('record', { early: true })).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(scheduler.isLeader()).toBe(false);

    await proxy.listenAgain();
    await waitFor(() => scheduler.isLeader(), 10_000, 'the node to lead once Redis answers');
    await scheduler.enqueue('record', { late: true });
    await waitFor(() => app.get(Jobs).records.length === 1, 5_000, 'the job enqueued after the server came');
    expect(app.get(Jobs).records).toEqual([{ late: true }]);
    await waitFor(() => app.get(Jobs).ticks >= 1, 5_000, 'a tick planned by the new leader');
  });

  it('fails bootstrap with StoreUnavailableError when waitForDatabase is false', async () => {
    await expect(boot(false)).rejects.toBeInstanceOf(StoreUnavailableError);
    apps.splice(0);
  });
});
