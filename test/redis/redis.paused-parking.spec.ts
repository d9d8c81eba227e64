import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openRedis, type RedisConnection } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { newJobInput } from '../../lib/store/index.js';
import type { NewJob } from '../../lib/store/job.types.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';

const pad = (id: string) => id.padStart(16, '0');
const NOW = new Date('2026-01-01T00:00:00Z');

/**
 * A paused name's or schedule's available jobs are parked in their ready set
 * below every band a claim walks: a claim behind 20,000 of them read each one
 * (160 ms of the server, which serves no one else meanwhile, at every claim
 * of the queue); it now reads none.
 */
describe('Redis store: paused jobs parked out of the claims’ way', () => {
  let admin: Redis;
  let connection: RedisConnection;
  let store: RedisStore;
  let prefix: { keyPrefix: string; drop(): Promise<void> };
  const key = (name: string) => `{${prefix.keyPrefix}}:${name}`;

  beforeEach(async () => {
    prefix = testKeyPrefix('park');
    admin = new Redis(redisUrl());
    connection = await openRedis({ url: redisUrl(), keyPrefix: prefix.keyPrefix });
    store = new RedisStore(connection);
    await store.init();
  });
  afterEach(async () => {
    await store.close();
    await admin.quit();
    await prefix.drop();
  });

  async function insert(count: number, patch: Partial<NewJob> = {}): Promise<string[]> {
    const inputs = Array.from({ length: count }, () => newJobInput(NOW, { queue: 'q', name: 'work', ...patch }));
    return (await store.insert(inputs)).map((r) => r.job.id);
  }
  const claim = async (limit = 100) => (await store.claim({ queue: 'q', limit, node: 'n', now: NOW })).map((j) => j.id);
  const parked = () => admin.zcount(key('ready:q'), '-inf', '(0');
  const claimable = () => admin.zcount(key('ready:q'), 0, '+inf');
  const score = async (id: string) => Number(await admin.zscore(key('ready:q'), pad(id)));

  it('a pause parks the due jobs of its name and of its schedule, claims never read them, and a resume puts them back in claim order', async () => {
    const paused = await insert(3, { name: 'report', priority: 0 });
    const [nightly] = await insert(1, { schedule: 'nightly', priority: 1 });
    const free = await insert(2, { priority: 5 });
    await store.setScheduleState('report', { paused: true });
    await store.setScheduleState('nightly', { paused: true });
    expect({ parked: await parked(), claimable: await claimable() }).toEqual({ parked: 4, claimable: 2 });

    // Proof that a claim reads no parked job: one whose hash is gone would be dropped from the set by a claim that read it.
    await admin.rename(key(`job:${paused[0]}`), key('aside'));
    expect(await claim()).toEqual(free);
    expect(await admin.zscore(key('ready:q'), pad(paused[0]!))).not.toBeNull();
    await admin.rename(key('aside'), key(`job:${paused[0]}`));

    await store.setScheduleState('nightly', { paused: false });
    await store.setScheduleState('report', { paused: false });
    expect({ parked: await parked(), claimable: await claimable() }).toEqual({ parked: 0, claimable: 4 });
    expect(await claim()).toEqual([...paused, nightly]);
    expect(await admin.hlen(key('prefile'))).toBe(0);
  });

  it('a job paused by both its name and its schedule stays parked until both resume', async () => {
    const [id] = await insert(1, { name: 'report', schedule: 'nightly' });
    await store.setScheduleState('report', { paused: true });
    await store.setScheduleState('nightly', { paused: true });
    await store.setScheduleState('report', { paused: false });
    expect(await score(id!)).toBeLessThan(0);
    await store.deleteSchedule('nightly');
    expect(await score(id!)).toBeGreaterThan(0);
    expect(await claim()).toEqual([id]);
  });

  it('a job that becomes available while its name is paused is parked at once: inserted, retried, made due', async () => {
    const [running] = await insert(1, { name: 'report' });
    expect(await claim()).toEqual([running]);
    await store.setScheduleState('report', { paused: true });
    const [inserted] = await insert(1, { name: 'report', runAt: new Date(NOW.getTime() + 60_000) });
    await store.retry({ id: running!, attempt: 1 }, new Date(NOW.getTime() + 1_000), {
      attempt: 1,
      at: NOW,
      name: 'Error',
      message: 'x',
      kind: 'error',
    });
    await store.makeDue(inserted!, NOW);
    expect([await score(running!), await score(inserted!)].every((s) => s < 0)).toBe(true);
    expect(await claim()).toEqual([]);
  });

  it('walks a slice at a time: a pause of 2,500 jobs is four script calls, none of them long', async () => {
    await insert(2_500, { name: 'report' });
    const run = vi.spyOn(connection, 'run');
    await store.setScheduleState('report', { paused: true });
    expect(run.mock.calls.filter(([script]) => script === 'schedPark')).toHaveLength(4);
    expect(await parked()).toBe(2_500);
  });

  it('walks the ready entries instead of the name’s jobs when those are fewer (a long history, a short backlog)', async () => {
    const history = await insert(1_200, { name: 'report' });
    const running = await store.claim({ queue: 'q', limit: 1_200, node: 'n', now: NOW });
    await Promise.all(running.map((job) => store.complete({ id: job.id, attempt: job.attempt }, null, NOW)));
    expect(running).toHaveLength(history.length);
    // Ahead of the backlog in the ready set, past the first slice: the walk must go on from the right rank.
    const other = await insert(1_100, { name: 'work' });
    const backlog = await insert(3, { name: 'report' });
    const run = vi.spyOn(connection, 'run');
    const walks = () => run.mock.calls.map(([script]) => script).filter((script) => script === 'schedPark' || script === 'schedParkBand');
    await store.setScheduleState('report', { paused: true });
    expect(walks()).toEqual(['schedParkBand', 'schedParkBand']);
    expect({ parked: await parked(), claimable: await claimable() }).toEqual({ parked: 3, claimable: 1_100 });
    run.mockClear();
    await store.setScheduleState('report', { paused: false });
    expect(walks()).toEqual(['schedParkBand']);
    expect(await claim(2_000)).toEqual([...other, ...backlog]);
  });

  it('pauses, resumes, inserts and claims from three connections at once: every job claimed once, none left parked', async () => {
    const others = [
      new RedisStore(await openRedis({ url: redisUrl(), keyPrefix: prefix.keyPrefix })),
      new RedisStore(await openRedis({ url: redisUrl(), keyPrefix: prefix.keyPrefix })),
    ];
    const [pauser, inserter] = others;
    try {
      const ids = new Set([...(await insert(2_000, { name: 'report' })), ...(await insert(500))]);
      const claimed: string[] = [];
      let done = false;
      const claimer = (async () => {
        while (!done || (await claimable()) > 0) claimed.push(...(await claim(50)));
      })();
      const pausing = (async () => {
        for (let i = 0; i < 6; i++) {
          await pauser!.setScheduleState('report', { paused: true });
          await pauser!.setScheduleState('report', { paused: false });
        }
      })();
      const inserting = (async () => {
        for (let i = 0; i < 10; i++) {
          const batch = Array.from({ length: 50 }, () => newJobInput(NOW, { queue: 'q', name: 'report' }));
          for (const r of await inserter!.insert(batch)) ids.add(r.job.id);
        }
      })();
      await Promise.all([pausing, inserting]);
      done = true;
      await claimer;
      claimed.push(...(await claim(5_000)));
      expect(claimed.length).toBe(new Set(claimed).size);
      expect(new Set(claimed)).toEqual(ids);
      expect({ parked: await parked(), claimable: await claimable(), owed: await admin.hlen(key('prefile')) }).toEqual({ parked: 0, claimable: 0, owed: 0 });
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
  });

  it('a pause or resume made by an earlier build (the pause set alone) is refiled once a schedule read sees it', async () => {
    const ids = await insert(2, { name: 'old' });
    await admin.sadd(key('paused'), 'old');
    expect(await claim()).toEqual([]); // passed over as before, though still claimable
    await store.getScheduleStates();
    await vi.waitFor(async () => expect(await parked()).toBe(2));
    await admin.srem(key('paused'), 'old');
    await store.getScheduleStates();
    await vi.waitFor(async () => expect(await claimable()).toBe(2));
    expect(await claim()).toEqual(ids);
  });

  it('a refile cut short stays owed and is finished by the next start; an earlier build’s claimable entry is passed over meanwhile', async () => {
    const [a, b] = await insert(2, { name: 'report' });
    await store.setScheduleState('report', { paused: true });
    // As a walk cut short before it reached b would leave it (or an earlier build's insert while paused).
    await admin.zadd(key('ready:q'), String((await score(b!)) + 10 * 2 ** 49), pad(b!));
    await admin.hincrby(key('prefile'), 'report', 1);
    expect(await claim()).toEqual([]);
    const next = new RedisStore(await openRedis({ url: redisUrl(), keyPrefix: prefix.keyPrefix }));
    try {
      await next.init();
      expect([await score(a!), await score(b!)].every((s) => s < 0)).toBe(true);
      expect(await admin.hlen(key('prefile'))).toBe(0);
    } finally {
      await next.close();
    }
  });
});
