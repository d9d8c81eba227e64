import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduled, SchedulerModule, SchedulerService, StoreUnavailableError, type JobContext } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
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
          // A short lease: the peer asks every 500 ms, sooner than the clock's retry (every second).
          peer: { leaseTtl: '1500ms' },
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
    vi.restoreAllMocks();
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

    // What the node saw, in order: its clock read from the server (TIME) and its election.
    const seen: string[] = [];
    const clockNow = RedisStore.prototype.clockNow;
    vi.spyOn(RedisStore.prototype, 'clockNow').mockImplementation(async function (this: RedisStore) {
      const at = await clockNow.call(this);
      seen.push('clock');
      return at;
    });
    scheduler.on('peer:election', () => seen.push('leader'));

    await proxy.listenAgain();
    await waitFor(() => scheduler.isLeader(), 10_000, 'the node to lead once Redis answers');
    // Its clock was measured (three samples) against the server's before it took the lease.
    expect(seen.slice(0, 4)).toEqual(['clock', 'clock', 'clock', 'leader']);
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
