import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Logger } from '@nestjs/common';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { closeRedis, openRedis } from '../../lib/redis/redis.client.js';
import { persistenceWarning, readPersistence } from '../../lib/redis/redis.persistence.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { InvalidArgumentError, MissingPackageError } from '../../lib/scheduler.errors.js';
import { StoreUnavailableError } from '../../lib/postgres/postgres.errors.js';
import { newJobInput } from '../../lib/store/index.js';
import { createRedisBundle } from '../../lib/redis/redis.bundle.js';
import { notificationChannel, RedisNotifier } from '../../lib/redis/redis.notifier.js';
import { SystemClock } from '../../lib/clock/clock.js';
import type { Notification } from '../../lib/notifier/notifier.js';
import { dropKeys, redisUrl, testKeyPrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { startRedisServer } from '../support/redis-server.js';

describe('Redis connection', () => {
  it('loads ioredis only when the Redis store is asked for: no file of lib/ imports it but for types', () => {
    const lib = join(import.meta.dirname, '..', '..', 'lib');
    const files = readdirSync(lib, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const runtime = files.filter((file) => /^import (?!type )[^;]*from 'ioredis'/m.test(readFileSync(join(lib, file), 'utf8')));
    expect(runtime).toEqual([]);
    expect(files.filter((file) => readFileSync(join(lib, file), 'utf8').includes("from 'ioredis'")).length).toBeGreaterThan(0);
  });

  it('says what to install when ioredis is missing', async () => {
    const missing = Object.assign(new Error("Cannot find package 'ioredis' imported from x"), { code: 'ERR_MODULE_NOT_FOUND' });
    const rejection = openRedis({ url: redisUrl() }, () => Promise.reject(missing));
    await expect(rejection).rejects.toBeInstanceOf(MissingPackageError);
    await expect(rejection).rejects.toMatchObject({ packageName: 'ioredis', message: expect.stringContaining('npm install ioredis') });
  });

  it.each([['a{b}'], [''], ['x}']])('refuses the key prefix %j with a typed error', async (keyPrefix) => {
    await expect(openRedis({ url: redisUrl(), keyPrefix })).rejects.toMatchObject({ argument: 'keyPrefix' });
  });

  it('fails with StoreUnavailableError, naming the server without its password, when Redis cannot be reached; nothing is left reconnecting', async () => {
    const server = await startRedisServer();
    const url = server.url.replace('redis://', 'redis://:secret@');
    await server.stop();
    const rejection = openRedis({ url });
    await expect(rejection).rejects.toBeInstanceOf(StoreUnavailableError);
    const error = (await rejection.catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/not reachable \(.*ECONNREFUSED/);
    expect(error.message).not.toContain('secret');
    expect(process.getActiveResourcesInfo().filter((kind) => kind === 'TCPWRAP' || kind === 'TCPConnectWrap')).toEqual([]);
  });

  it('refuses a bad db and a client that is not ioredis', async () => {
    await expect(openRedis({ url: redisUrl(), db: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(openRedis({ client: { query: () => {} } })).rejects.toMatchObject({ argument: 'client' });
    const client = new Redis(redisUrl(), { lazyConnect: true });
    await expect(openRedis({ client, url: redisUrl() })).rejects.toMatchObject({ argument: 'url' });
    client.disconnect();
  });

  it('refuses a url that is not a string, or one ioredis cannot read, with a typed error (ioredis throws a bare one)', async () => {
    for (const url of ['', 42, 10n, Symbol('u'), 'not a url']) {
      await expect(openRedis({ url: url as never })).rejects.toMatchObject({ name: 'InvalidArgumentError', argument: 'url' });
    }
  });

  it("uses the app's client, keys under the hash-tagged prefix, and leaves the client open at close", async () => {
    const keys = testKeyPrefix('client');
    const client = new Redis(redisUrl());
    try {
      const store = new RedisStore(await openRedis({ client, keyPrefix: keys.keyPrefix }));
      await store.init();
      const [result] = await store.insert([newJobInput(new Date())]);
      expect(await client.exists(`{${keys.keyPrefix}}:job:${result!.job.id}`)).toBe(1);
      await store.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      await keys.drop();
      await client.quit();
    }
  });

  it('takes the database from db', async () => {
    const keys = testKeyPrefix('db');
    const redis = await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix, db: 3 });
    const other = new Redis(redisUrl(), { db: 3 });
    try {
      const store = new RedisStore(redis);
      const [{ job }] = await store.insert([newJobInput(new Date())]);
      expect(await other.exists(`{${keys.keyPrefix}}:job:${job.id}`)).toBe(1);
      await store.delete([job.id]);
    } finally {
      await other.quit();
      await closeRedis(redis);
    }
  });
});

describe('Redis deployments in two databases of one server', () => {
  it('with the same prefix, do not hear each other (pub/sub is server-wide, so the channel names the database)', async () => {
    const keys = testKeyPrefix('dbs');
    const context = { node: 'n', clock: new SystemClock(), leaseTtl: 30_000, peerEligible: false };
    const one = await createRedisBundle({ type: 'redis', url: redisUrl(), keyPrefix: keys.keyPrefix, db: 1, warnWithoutPersistence: false }, context);
    const two = await createRedisBundle(
      { type: 'redis', url: `${redisUrl().replace(/\/\d*$/, '')}/2`, keyPrefix: keys.keyPrefix, warnWithoutPersistence: false },
      context,
    );
    const zero = await createRedisBundle({ type: 'redis', url: redisUrl(), keyPrefix: keys.keyPrefix, warnWithoutPersistence: false }, context);
    const bundles = [zero, one, two];
    try {
      expect(bundles.map((b) => (b.notifier as RedisNotifier).channel)).toEqual([
        `{${keys.keyPrefix}}:events`,
        `{${keys.keyPrefix}}:events:db1`,
        `{${keys.keyPrefix}}:events:db2`,
      ]);
      const heard: Notification[][] = [[], [], []];
      for (const [i, b] of bundles.entries()) {
        await b.notifier.start();
        b.notifier.subscribe((m) => heard[i]!.push(m));
      }
      await one.notifier.notify({ type: 'cancel', jobId: '1' });
      await two.notifier.notify({ type: 'queues' });
      await zero.notifier.notify({ type: 'schedules' });
      await waitFor(() => heard.every((h) => h.length > 0), 2_000, 'each deployment its own message');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard).toEqual([[{ type: 'schedules' }], [{ type: 'cancel', jobId: '1' }], [{ type: 'queues' }]]);
    } finally {
      for (const b of bundles) {
        await b.notifier.stop();
        await b.store.close();
      }
    }
  });
});

describe('Redis deployments with two key prefixes on one database', () => {
  it('whose keys read alike (`p` and `p:job`) each have a leader, jobs and a channel of their own', async () => {
    const keys = testKeyPrefix('prefixes');
    const other = { keyPrefix: `${keys.keyPrefix}:job`, drop: () => dropKeys(`${keys.keyPrefix}:job`) };
    const context = (node: string) => ({ node, clock: new SystemClock(), leaseTtl: 30_000, peerEligible: true });
    const one = await createRedisBundle({ type: 'redis', url: redisUrl(), keyPrefix: keys.keyPrefix, warnWithoutPersistence: false }, context('a'));
    const two = await createRedisBundle({ type: 'redis', url: redisUrl(), keyPrefix: other.keyPrefix, warnWithoutPersistence: false }, context('b'));
    const bundles = [one, two];
    try {
      for (const b of bundles) await b.store.init();
      for (const b of bundles) await b.peer.start();
      expect(bundles.map((b) => b.peer.isLeader())).toEqual([true, true]);
      const heard: Notification[][] = [[], []];
      for (const [i, b] of bundles.entries()) {
        await b.notifier.start();
        b.notifier.subscribe((m) => heard[i]!.push(m));
      }
      const [inserted] = await one.store.insert([newJobInput(new Date(), { name: 'only-in-one' })]);
      const [twin] = await two.store.insert([newJobInput(new Date(), { name: 'only-in-two' })]);
      // Fresh counters: the same id in each, two different jobs.
      expect((await one.store.get(inserted!.job.id))?.name).toBe('only-in-one');
      expect((await two.store.get(twin!.job.id))?.name).toBe('only-in-two');
      expect((await two.store.list({ limit: 10 })).map((j) => j.name)).toEqual(['only-in-two']);
      await one.notifier.notify({ type: 'cancel', jobId: inserted!.job.id });
      await two.notifier.notify({ type: 'queues' });
      await waitFor(() => heard.every((h) => h.length > 0), 2_000, 'each deployment its own message');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard).toEqual([[{ type: 'cancel', jobId: inserted!.job.id }], [{ type: 'queues' }]]);
    } finally {
      for (const b of bundles) {
        await b.peer.stop();
        await b.notifier.stop();
        await b.store.close();
      }
      await keys.drop();
      await other.drop();
    }
  });
});

describe('Redis notifications the server does not take', () => {
  it('are logged, not thrown (the caller wrote already), and still reach this process', async () => {
    const keys = testKeyPrefix('notify');
    const redis = await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix });
    const notifier = new RedisNotifier(redis, notificationChannel(redis));
    const warnings = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await notifier.start();
      const heard: Notification[] = [];
      notifier.subscribe((m) => heard.push(m));
      // The publishing connection is gone (closed for good: ioredis refuses the command at once).
      redis.client.disconnect();
      await expect(notifier.notify({ type: 'insert', queue: 'default' })).resolves.toBeUndefined();
      expect(heard).toEqual([{ type: 'insert', queue: 'default' }]);
      expect(warnings.mock.calls.map(([m]) => String(m))).toEqual([expect.stringMatching(/sending a "insert" notification failed \(polling will catch up\)/)]);
    } finally {
      warnings.mockRestore();
      await notifier.stop();
      await closeRedis(redis);
      await keys.drop();
    }
  });
});

describe('Redis persistence check', () => {
  const servers: { url: string; stop(): Promise<void> }[] = [];
  const reading = async (args: string[]) => {
    const server = await startRedisServer(args);
    servers.push(server);
    const redis = await openRedis({ url: server.url });
    try {
      return await readPersistence(redis);
    } finally {
      await closeRedis(redis);
    }
  };
  afterAll(async () => {
    for (const server of servers) await server.stop();
  });

  it('warns for a server that keeps nothing, or only snapshots', async () => {
    const none = await reading(['--save', '', '--appendonly', 'no']);
    expect(none).toEqual({ kind: 'none' });
    expect(persistenceWarning(none)).toMatch(/keeps nothing on disk/);
    const rdb = await reading(['--save', '60 1', '--appendonly', 'no']);
    expect(rdb).toMatchObject({ kind: 'rdb' });
    expect(persistenceWarning(rdb)).toMatch(/RDB snapshots/);
  });

  it('is quiet for AOF with everysec or always', async () => {
    for (const fsync of ['everysec', 'always']) {
      const aof = await reading(['--save', '', '--appendonly', 'yes', '--appendfsync', fsync]);
      expect(aof).toEqual({ kind: 'aof', fsync });
      expect(persistenceWarning(aof)).toBeNull();
    }
  });

  it('an acknowledgement sent while the server restarts lands once it is back', async () => {
    const server = await startRedisServer(['--save', '', '--appendonly', 'yes', '--appendfsync', 'always']);
    servers.push(server);
    const redis = await openRedis({ url: server.url });
    try {
      const store = new RedisStore(redis);
      const now = new Date();
      await store.insert([newJobInput(now)]);
      const [job] = await store.claim({ queue: 'default', limit: 1, node: 'n', now });
      let completed: Promise<void> | undefined;
      await server.restart(() => {
        completed = store.complete({ id: job!.id, attempt: job!.attempt }, { ok: true }, now);
      });
      await completed;
      expect(await store.get(job!.id)).toMatchObject({ state: 'completed', result: { ok: true } });
    } finally {
      await closeRedis(redis);
    }
  });

  it('tolerates CONFIG being disabled (renamed away, as managed services do)', async () => {
    const unknown = await reading(['--save', '', '--rename-command', 'CONFIG', '']);
    expect(unknown).toMatchObject({ kind: 'unknown' });
    expect(persistenceWarning(unknown)).toBeNull();
  });
});
