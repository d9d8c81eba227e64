import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Notification } from '../../lib/notifier/notifier.js';
import { closeRedis, openRedis, type RedisConnection } from '../../lib/redis/redis.client.js';
import { RedisNotifier } from '../../lib/redis/redis.notifier.js';
import { RedisPeer } from '../../lib/redis/redis.peer.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { HandNotifier } from '../support/hand-notifier.js';
import { newJobInput } from '../support/new-job.js';
import { startRedisServer } from '../support/redis-server.js';
import { sleep, stall, waitFor } from '../support/wait.js';

/**
 * A server that closes idle clients (`timeout 1`: after 1 to 2 s without a
 * command), a server of the test's own. Each of a node's three connections
 * must go on: the store's and the lease's reconnect and send what was cut
 * off again; the subscribed one is exempt (Redis never closes a pub/sub
 * client for idling).
 */
describe('Redis closing idle connections (timeout)', () => {
  let server: Awaited<ReturnType<typeof startRedisServer>>;
  let observer: RedisConnection;
  beforeAll(async () => {
    server = await startRedisServer(['--save', '', '--appendonly', 'no', '--timeout', '1']);
    observer = await openRedis({ url: server.url });
  });
  afterAll(async () => {
    await closeRedis(observer);
    await server.stop();
  });

  /** Connections the server has accepted so far (the observer's own pings keep it open). */
  const accepted = async () => Number(/total_connections_received:(\d+)/.exec(await observer.client.info('stats'))![1]);
  const warnings: string[] = [];
  const quiet = () => {
    warnings.length = 0;
    vi.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    onTestFinished(() => void vi.restoreAllMocks());
  };
  const open = async (socketTimeout?: string) => {
    const redis = await openRedis({ url: server.url, keyPrefix: 'idle', socketTimeout });
    onTestFinished(() => closeRedis(redis));
    return redis;
  };

  it('a lease renewal sent as the server closes its idle connection is sent again on the new one: the leader does not resign', async () => {
    quiet();
    const redis = await open();
    const notifier = new HandNotifier();
    // A lease long enough that its own timer sends nothing during the test: the renewal below is the only one.
    const peer = new RedisPeer(redis, { node: 'a', leaseTtl: 60_000, eligible: true, notifier, channel: 'idle-events' });
    const changes: boolean[] = [];
    peer.onChange((leader) => changes.push(leader));
    onTestFinished(() => peer.stop());
    await peer.start();
    expect(peer.isLeader()).toBe(true);
    await observer.client.ping();
    const before = await accepted();
    stall(2_500);
    notifier.send({ type: 'leader' });
    // The server closed the lease's, the store's and the observer's connections: all came back.
    await waitFor(async () => (await accepted()) >= before + 3, 3_000, 'the connections to be opened again');
    await sleep(300);
    expect(changes).toEqual([true]);
    expect(peer.isLeader()).toBe(true);
    expect(warnings.filter((w) => /lease/.test(w))).toEqual([]);
  });

  it('a leader whose lease connection the server closed while idle still releases its lease when it stops', async () => {
    const redis = await open();
    const peer = new RedisPeer(redis, { node: 'a', leaseTtl: 60_000, eligible: true, notifier: new HandNotifier(), channel: 'idle-events' });
    await peer.start();
    expect(peer.isLeader()).toBe(true);
    await sleep(2_500);
    await peer.stop();
    expect(await observer.client.exists(`${redis.base}leader`)).toBe(0);
  });

  it('a store command sent as the server closes its idle connection is answered on the new one', async () => {
    const redis = await open();
    const store = new RedisStore(redis);
    const [inserted] = await store.insert([newJobInput(new Date())]);
    await observer.client.ping();
    const before = await accepted();
    stall(2_500);
    expect((await store.get(inserted!.job.id))?.id).toBe(inserted!.job.id);
    // The store's connection and the observer's were closed and opened again.
    expect(await accepted()).toBeGreaterThanOrEqual(before + 2);
  });

  it('the subscribed connection is never closed for idling: no resync, and a message sent after several timeouts arrives', async () => {
    quiet();
    const redis = await open();
    const notifier = new RedisNotifier(redis, 'idle-events');
    onTestFinished(() => notifier.stop());
    await notifier.start();
    const heard: Notification[] = [];
    notifier.subscribe((message) => heard.push(message));
    // The notifier pings every 10 s: none in this wait, which is several of the server's timeouts.
    await sleep(3_500);
    await observer.client.publish('idle-events', JSON.stringify({ type: 'queues' }));
    await waitFor(() => heard.length > 0, 2_000, 'the message');
    expect(heard).toEqual([{ type: 'queues' }]);
    expect(warnings).toEqual([]);
  });
});
