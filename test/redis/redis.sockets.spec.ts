import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeRedis, openRedis, type RedisConnection } from '../../lib/redis/redis.client.js';
import { RedisNotifier } from '../../lib/redis/redis.notifier.js';
import { RedisPeer } from '../../lib/redis/redis.peer.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { InvalidArgumentError } from '../../lib/scheduler.errors.js';
import type { Notification } from '../../lib/notifier/notifier.js';
import { newJobInput } from '../support/new-job.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

/**
 * Half-open sockets: a loopback proxy stops forwarding both ways without
 * closing anything, as when the server's host or the path to it vanishes.
 * Each connection through it must be noticed as dead and replaced.
 */
describe('Redis connections through a black hole', () => {
  let keys = testKeyPrefix('sockets');
  let proxy: TcpProxy;
  const close: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    proxy = await TcpProxy.start(redisUrl());
  });
  afterEach(async () => {
    for (const step of close.splice(0).reverse()) await step();
    await proxy.close();
    await keys.drop();
    keys = testKeyPrefix('sockets');
  });

  const through = async (): Promise<RedisConnection> => {
    const redis = await openRedis({ url: proxy.urlFor(redisUrl()), keyPrefix: keys.keyPrefix, socketTimeout: '1s' });
    close.push(() => closeRedis(redis));
    return redis;
  };

  it('a command on a silent socket is sent again on a new connection once the socket timeout passes', async () => {
    const redis = await through();
    const store = new RedisStore(redis);
    const [inserted] = await store.insert([newJobInput(new Date())]);
    const before = proxy.accepted;
    proxy.blackHole();
    const job = await store.get(inserted!.job.id);
    expect(job?.id).toBe(inserted!.job.id);
    expect(proxy.accepted).toBeGreaterThan(before);
  });

  it('a leader whose lease connection goes silent resigns, then leads again on a new connection', async () => {
    const redis = await through();
    const peer = new RedisPeer(redis, { node: 'a', leaseTtl: 1_500, eligible: true, channel: `${redis.base}events` });
    close.push(() => peer.stop());
    const changes: boolean[] = [];
    peer.onChange((leader) => changes.push(leader));
    await peer.start();
    expect(peer.isLeader()).toBe(true);
    proxy.blackHole();
    await waitFor(() => !peer.isLeader(), 3_000, 'the leader to resign');
    await waitFor(() => peer.isLeader(), 5_000, 'the leader to lead again');
    expect(changes).toEqual([true, false, true]);
  });

  it('a lease connection dropped as it opens does not fail the start: the peer leads once a connection gets through', async () => {
    const redis = await through();
    const peer = new RedisPeer(redis, { node: 'a', leaseTtl: 1_500, eligible: true, channel: `${redis.base}events` });
    close.push(() => peer.stop());
    // The store's own connection is open; the lease's second connection is closed as soon as it is accepted.
    proxy.refuse();
    await peer.start();
    expect(peer.isLeader()).toBe(false);
    proxy.accept();
    await waitFor(() => peer.isLeader(), 10_000, 'the peer to lead');
  });

  it('a subscriber connection dropped as it opens does not fail the start: what is sent once it gets through arrives', async () => {
    const redis = await through();
    const notifier = new RedisNotifier(redis, `${redis.base}events`);
    close.push(() => notifier.stop());
    const heard: Notification[] = [];
    notifier.subscribe((m) => heard.push(m));
    proxy.refuse();
    await notifier.start();
    proxy.accept();
    await waitFor(
      async () => {
        await notifier.notify({ type: 'insert', queue: 'default' });
        return heard.some((m) => m.type === 'insert');
      },
      10_000,
      'a notification to arrive',
    );
  });

  it('a subscribed connection that goes silent is replaced: its listeners resync, and what is sent next arrives', async () => {
    const redis = await through();
    const notifier = new RedisNotifier(redis, `${redis.base}events`);
    close.push(() => notifier.stop());
    await notifier.start();
    const heard: Notification[] = [];
    notifier.subscribe((m) => heard.push(m));
    const direct = await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix });
    close.push(() => closeRedis(direct));
    const sender = new RedisNotifier(direct, notifier.channel);

    proxy.blackHole();
    await waitFor(() => heard.some((m) => m.type === 'resync'), 5_000, 'a resync after the silent socket was replaced');
    await sender.notify({ type: 'queues' });
    await waitFor(() => heard.some((m) => m.type === 'queues'), 2_000, 'a message sent after the replacement');
  });

  it('closing a connection whose socket went silent lets go of the socket (the goodbye is never answered)', async () => {
    const redis = await openRedis({ url: proxy.urlFor(redisUrl()), keyPrefix: keys.keyPrefix, socketTimeout: '10s' });
    await redis.client.ping();
    const socket = (redis.client as unknown as { stream: import('node:net').Socket }).stream;
    proxy.blackHole();
    const started = Date.now();
    await closeRedis(redis);
    // A half-closed socket would keep the process alive: it is destroyed, not only ended.
    await waitFor(() => socket.destroyed, 5_000, 'the socket to be destroyed');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a socket timeout or keepalive delay that is not a duration from 100 ms', async () => {
    await expect(openRedis({ url: redisUrl(), socketTimeout: 'soon' })).rejects.toMatchObject({ argument: 'socketTimeout' });
    await expect(openRedis({ url: redisUrl(), keepAliveDelay: 5 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
