import { Logger } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SchedulerService, type SchedulerModuleOptions } from '../../lib/index.js';
import { createTestSchema } from '../support/postgres.js';
import { bootApp, HeldJobs } from '../support/postgres/apps.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { sleep, waitFor } from '../support/wait.js';

/** A store of its own for one test, reached at `url`, and what removes it. */
interface Target {
  url: string;
  store(url: string): SchedulerModuleOptions['store'];
  drop(): Promise<void>;
}

const targets: Record<string, () => Promise<Target>> = {
  postgres: async () => {
    const db = await createTestSchema('outage');
    return { url: db.url, store: (url) => ({ type: 'postgres', url, schema: db.schema, statementTimeout: 300, heartbeatTimeout: 400 }), drop: db.drop };
  },
  redis: async () => {
    const keys = testKeyPrefix('outage');
    return { url: redisUrl(), store: (url) => ({ type: 'redis', url, keyPrefix: keys.keyPrefix, warnWithoutPersistence: false }), drop: keys.drop };
  },
};

/**
 * The store goes away for longer than `rescueAfter` and comes back: no
 * heartbeat could land meanwhile, so every running job looks abandoned. A
 * job whose node is alive must not be rescued for it (it would run twice).
 */
describe.each(Object.keys(targets))('%s: an outage longer than rescueAfter', (kind) => {
  const lifeline = { heartbeat: 300, rescueAfter: 4_000, interval: 250 };
  let target: Target;
  const proxies: TcpProxy[] = [];
  const apps: TestingModule[] = [];

  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    target = await targets[kind]!();
  });
  afterEach(async () => {
    for (const proxy of proxies) proxy.accept();
    for (const app of apps.splice(0)) await app.close();
    for (const proxy of proxies.splice(0)) await proxy.close();
    await target.drop();
    vi.restoreAllMocks();
  });

  /** A node behind a proxy of its own, so that the test decides when each one reaches the store again. */
  async function node(options: Partial<SchedulerModuleOptions>): Promise<{ app: TestingModule; proxy: TcpProxy }> {
    const proxy = await TcpProxy.start(target.url);
    proxies.push(proxy);
    const app = await bootApp({
      store: target.store(proxy.urlFor(target.url)),
      pollInterval: 200,
      peer: { leaseTtl: 1_500 },
      lifeline,
      shutdownGracePeriod: 500,
      ...options,
    });
    apps.push(app);
    return { app, proxy };
  }
  const cut = (proxy: TcpProxy) => {
    proxy.refuse();
    proxy.dropAll();
  };

  it("the leader rescues no live node's job for it: the worker that comes back keeps its job, the one that died is rescued rescueAfter after the store is back", async () => {
    const leader = await node({ queues: false });
    const leading = leader.app.get(SchedulerService);
    await waitFor(() => leading.isLeader(), 5_000, 'the leader');
    const rescued: string[] = [];
    leading.on('job:rescue', ({ job }) => rescued.push(job.id));
    // One slot each, so that each worker holds one job.
    const queues = { default: { concurrency: 1, prefetch: 0 } };
    const live = await node({ peer: false, queues });
    const liveJob = await live.app.get(SchedulerService).enqueue('hold');
    await waitFor(() => live.app.get(HeldJobs).holds.has(liveJob.id), 5_000, 'the live worker to start its job');
    const dead = await node({ peer: false, queues });
    const deadJob = await dead.app.get(SchedulerService).enqueue('hold');
    await waitFor(() => dead.app.get(HeldJobs).holds.has(deadJob.id), 5_000, 'the other worker to start its job');

    for (const { proxy } of [leader, live, dead]) cut(proxy);
    await sleep(lifeline.rescueAfter + 1_500);
    // The leader is back first: it leads again and runs its lifeline while the live worker is still cut off.
    leader.proxy.accept();
    const back = Date.now();
    await waitFor(() => leading.isLeader(), 5_000, 'the leader to lead again');
    await sleep(3 * lifeline.interval);
    live.proxy.accept();
    const liveBack = Date.now();
    await waitFor(async () => ((await leading.findJob(liveJob.id))?.heartbeatAt?.getTime() ?? 0) > liveBack, 5_000, "the live worker's heartbeat");
    expect(rescued).toEqual([]);
    // The other worker's proxy never forwards again: as far as the store knows, it died with the outage.
    await waitFor(async () => (await leading.findJob(deadJob.id))?.state === 'available', lifeline.rescueAfter + 5_000, "the dead worker's job to be rescued");
    expect(Date.now() - back).toBeGreaterThanOrEqual(lifeline.rescueAfter);
    expect((await leading.findJob(deadJob.id))?.errors).toMatchObject([{ name: 'RescuedError' }]);
    // Past the leader's grace: the live worker's job would be rescued by now if its heartbeat had not landed.
    await sleep(2 * lifeline.interval);

    expect(rescued).toEqual([deadJob.id]);
    expect(live.app.get(HeldJobs).aborted).toEqual([]);
    expect(await leading.findJob(liveJob.id)).toMatchObject({ state: 'running', attempt: 1, errors: [] });
    live.app.get(HeldJobs).holds.get(liveJob.id)!();
    await waitFor(async () => (await leading.findJob(liveJob.id))?.state === 'completed', 5_000, 'the job to complete');
    expect((await leading.findJob(liveJob.id))?.attempt).toBe(1);
  });
});
