import { afterEach, describe, expect, it } from 'vitest';
import { closeRedis, openRedis, type RedisConnection } from '../../lib/redis/redis.client.js';
import { RedisNotifier } from '../../lib/redis/redis.notifier.js';
import { RedisPeer } from '../../lib/redis/redis.peer.js';
import type { Notification } from '../../lib/notifier/notifier.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

describe('Redis peer and notifier', () => {
  let keys = testKeyPrefix('peer');
  const open: { connection: RedisConnection; notifier: RedisNotifier; peer: RedisPeer }[] = [];
  const node = async (name: string, leaseTtl = 3_000) => {
    const connection = await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix });
    const notifier = new RedisNotifier(connection, `${connection.base}events`);
    const peer = new RedisPeer(connection, { node: name, leaseTtl, eligible: true, notifier, channel: notifier.channel });
    open.push({ connection, notifier, peer });
    return { connection, notifier, peer };
  };

  afterEach(async () => {
    for (const { peer, notifier, connection } of open.splice(0)) {
      await peer.stop();
      await notifier.stop();
      await closeRedis(connection);
    }
    await keys.drop();
    keys = testKeyPrefix('peer');
  });

  it('elects exactly one leader when many nodes start at once', async () => {
    const nodes = await Promise.all(Array.from({ length: 6 }, (_, i) => node(`n${i}`)));
    await Promise.all(nodes.map(async ({ notifier, peer }) => (await notifier.start(), await peer.start())));
    const leaders = nodes.filter(({ peer }) => peer.isLeader());
    expect(leaders).toHaveLength(1);
    expect(await nodes[0]!.peer.leaderNode()).toBe(`n${nodes.indexOf(leaders[0]!)}`);
  });

  it('hands over at a clean stop, with a greater fencing token, woken by pub/sub', async () => {
    const a = await node('a', 30_000);
    const b = await node('b', 30_000);
    for (const { notifier, peer } of [a, b]) {
      await notifier.start();
      await peer.start();
    }
    expect([a.peer.isLeader(), b.peer.isLeader()]).toEqual([true, false]);
    const first = a.peer.fencingToken!;
    expect(first).toBeGreaterThan(0);
    expect(b.peer.fencingToken).toBeNull();
    await a.peer.stop();
    expect(a.peer.isLeader()).toBe(false);
    // The lease lives 30 s: only the resign message makes b try within a second.
    await waitFor(() => b.peer.isLeader(), 1_000, 'b to take over');
    expect(b.peer.fencingToken!).toBeGreaterThan(first);
    expect(await b.peer.leaderNode()).toBe('b');
  });

  it('a leader that vanishes without resigning is replaced once its lease expires', async () => {
    const a = await node('a', 1_500);
    const b = await node('b', 1_500);
    await a.peer.start();
    await b.peer.start();
    expect(a.peer.isLeader()).toBe(true);
    // a's process "dies": its lease connection stops renewing, nothing is released.
    const lease = (a.peer as unknown as { lease: RedisConnection }).lease;
    lease.client.disconnect();
    await waitFor(() => b.peer.isLeader(), 5_000, 'b to take over after the lease expired');
    await waitFor(() => !a.peer.isLeader(), 2_000, 'a to resign by its own deadline');
  });

  it('delivers notifications to every node, itself included, and ignores malformed ones', async () => {
    const a = await node('a');
    const b = await node('b');
    await a.notifier.start();
    await b.notifier.start();
    const heard: Notification[] = [];
    b.notifier.subscribe((m) => heard.push(m));
    const own: Notification[] = [];
    a.notifier.subscribe((m) => own.push(m));
    await a.connection.client.publish(a.notifier.channel, 'not json');
    await a.notifier.notify({ type: 'cancel', jobId: '42' });
    await a.notifier.notify({ type: 'insert', queue: 'mail' });
    await waitFor(() => heard.length >= 2 && own.length >= 2, 2_000, 'the messages');
    expect(heard).toEqual([
      { type: 'cancel', jobId: '42' },
      { type: 'insert', queue: 'mail' },
    ]);
    expect(own).toEqual(heard);
  });

  it('tells its listeners to resync after its connection comes back', async () => {
    const a = await node('a');
    await a.notifier.start();
    const heard: Notification[] = [];
    a.notifier.subscribe((m) => heard.push(m));
    const subscriber = (a.notifier as unknown as { subscriber: RedisConnection }).subscriber;
    subscriber.client.disconnect(true);
    await waitFor(() => heard.some((m) => m.type === 'resync'), 5_000, 'a resync');
    await a.notifier.notify({ type: 'queues' });
    await waitFor(() => heard.some((m) => m.type === 'queues'), 2_000, 'messages after the reconnection');
  });
});
