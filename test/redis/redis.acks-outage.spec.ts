import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisAcks } from '../../lib/redis/redis.acks.js';
import { openRedis } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { StaleAttemptError, StoreUnavailableError } from '../../lib/scheduler.errors.js';
import { newJobInput } from '../../lib/store/index.js';
import type { AttemptRef } from '../../lib/store/job-store.js';
import type { JobAttemptError } from '../../lib/store/job.types.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const HOUR = 3_600_000;

/**
 * Acknowledgements of the Redis store through a loopback proxy that cuts the
 * connection: an outage longer than the client's own retries (2 reconnection
 * attempts, 50 ms apart, here), and an answer lost after the script ran.
 * Every ack must land once and resolve; none may leave its job running to be
 * rescued and run twice.
 */
describe('Redis store acknowledgements and claims across an outage', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A store whose client goes through a proxy (and gives up on a call after ~100 ms out of reach), and a direct one to look. */
  async function open(clientOptions: { maxRetriesPerRequest: number | null } = { maxRetriesPerRequest: 2 }) {
    const keys = testKeyPrefix('acks-outage');
    const proxy = await TcpProxy.start(redisUrl());
    const client = new Redis(proxy.urlFor(redisUrl()), { ...clientOptions, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    const redis = await openRedis({ client, keyPrefix: keys.keyPrefix });
    // What the client rejected the store's calls with.
    const failures: string[] = [];
    const run = redis.run;
    redis.run = (script, ...args) =>
      run(script, ...args).catch((error: unknown) => {
        failures.push((error as Error).name);
        throw error;
      });
    const store = new RedisStore(redis);
    const direct = new RedisStore(await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix }));
    cleanups.push(async () => {
      proxy.accept();
      await store.close();
      client.disconnect();
      await proxy.close();
      await direct.close();
      await keys.drop();
    });
    return { store, redis, direct, proxy, failures };
  }

  async function running(store: RedisStore, count: number): Promise<AttemptRef[]> {
    const now = new Date();
    await store.insert(Array.from({ length: count }, (_, n) => newJobInput(now, { args: { n } })));
    const jobs = await store.claim({ queue: 'default', limit: count, node: 'n1', now });
    expect(jobs).toHaveLength(count);
    return jobs.map((job) => ({ id: job.id, attempt: job.attempt }));
  }

  const failure = (ref: AttemptRef, kind = 'error'): JobAttemptError => ({
    attempt: ref.attempt,
    at: new Date(),
    name: 'Error',
    message: `attempt ${ref.attempt} of job ${ref.id} failed`,
    kind,
  });

  /** Settles `work` into a record that the test can read before and after it ends. */
  function watch(work: Promise<void>): { status: 'pending' | 'fulfilled' | 'rejected'; reason?: unknown; done: Promise<void> } {
    const state: { status: 'pending' | 'fulfilled' | 'rejected'; reason?: unknown; done: Promise<void> } = { status: 'pending', done: Promise.resolve() };
    state.done = work.then(
      () => void (state.status = 'fulfilled'),
      (reason: unknown) => {
        state.status = 'rejected';
        state.reason = reason;
      },
    );
    return state;
  }

  it('acks made while the server is out of reach longer than the client retries wait, then land once it is back', async () => {
    const { store, direct, proxy } = await open();
    const [a, b, c, d, e, f] = await running(store, 6);
    proxy.refuse();
    proxy.dropAll();
    const now = new Date();
    const later = new Date(now.getTime() + HOUR);
    const acks = [
      store.complete(a!, { ok: 1 }, now),
      store.complete(b!, null, now, { forget: true }),
      store.retry(c!, later, failure(c!)),
      store.fail(d!, 'dead', failure(d!), now),
      store.fail(e!, 'discarded', failure(e!), now),
      store.release(f!, later, failure(f!, 'shutdown')),
    ].map(watch);
    // Ten times the client's own patience: every call above was refused by ioredis at least once.
    await sleep(1_000);
    expect(proxy.refused).toBeGreaterThan(2);
    expect(acks.map((ack) => ack.status)).toEqual(Array(6).fill('pending'));
    proxy.accept();
    await Promise.all(acks.map((ack) => ack.done));
    expect(acks.map((ack) => [ack.status, ack.reason])).toEqual(Array(6).fill(['fulfilled', undefined]));
    expect(await direct.get(a!.id)).toMatchObject({ state: 'completed', attempt: 1, result: { ok: 1 } });
    expect(await direct.get(b!.id)).toBeNull();
    expect(await direct.get(c!.id)).toMatchObject({ state: 'available', attempt: 1, runAt: later, errors: [{ message: failure(c!).message }] });
    expect(await direct.get(d!.id)).toMatchObject({ state: 'dead', attempt: 1, errors: [{ kind: 'error' }] });
    expect(await direct.get(e!.id)).toMatchObject({ state: 'discarded', attempt: 1 });
    expect(await direct.get(f!.id)).toMatchObject({ state: 'available', attempt: 1, errors: [{ kind: 'shutdown' }] });
    // Nothing is left running to be rescued and run a second time.
    expect(await direct.rescue(new Date(now.getTime() + HOUR), now)).toEqual([]);
  });

  it('an ack whose answer was lost after it ran (ioredis sends it again on the new connection) resolves', async () => {
    const { store, direct, proxy } = await open();
    const [a, b, c, d] = await running(store, 4);
    const now = new Date();
    const writes: [AttemptRef, () => Promise<void>, string | null][] = [
      [a!, () => store.complete(a!, 'done', now), 'completed'],
      [b!, () => store.complete(b!, null, now, { forget: true }), null],
      [c!, () => store.retry(c!, new Date(now.getTime() + HOUR), failure(c!)), 'available'],
      [d!, () => store.fail(d!, 'dead', failure(d!), now), 'dead'],
    ];
    for (const [ref, write, state] of writes) {
      proxy.loseNextReply();
      await expect(write()).resolves.toBeUndefined();
      const job = await direct.get(ref.id);
      if (state === null) expect(job).toBeNull();
      else expect(job).toMatchObject({ state, attempt: 1 });
    }
    expect(proxy.accepted).toBeGreaterThanOrEqual(5);
  });

  it('an ack whose answer was lost, and whose client then gave up on it, resolves when this store sends it again', async () => {
    const { store, direct, proxy, failures } = await open();
    const [a, c] = await running(store, 2);
    const now = new Date();
    const writes: [AttemptRef, () => Promise<void>, string][] = [
      [c!, () => store.retry(c!, new Date(now.getTime() + HOUR), failure(c!)), 'available'],
      [a!, () => store.complete(a!, null, now), 'completed'],
    ];
    for (const [ref, write, state] of writes) {
      // The script runs, its answer is lost, and the server is down while the client reconnects, so the client rejects the call.
      failures.length = 0;
      proxy.loseNextReply();
      proxy.stopListening();
      const ack = watch(write());
      await sleep(600);
      await proxy.listenAgain();
      await ack.done;
      expect([ack.status, ack.reason]).toEqual(['fulfilled', undefined]);
      expect(failures).toContain('MaxRetriesPerRequestError');
      expect(await direct.get(ref.id)).toMatchObject({ state, attempt: 1 });
    }
  });

  it('an interrupted ack whose job was rescued meanwhile is still reported stale, and changes nothing', async () => {
    const { store, direct, proxy } = await open();
    const [a, c] = await running(store, 2);
    const now = new Date();
    proxy.refuse();
    proxy.dropAll();
    const completed = watch(store.complete(a!, 'late', now));
    const retried = watch(store.retry(c!, now, failure(c!)));
    await sleep(300);
    // Another node rescues both and runs them again.
    const later = new Date(now.getTime() + HOUR);
    expect(await direct.rescue(later, later)).toHaveLength(2);
    expect(await direct.claim({ queue: 'default', limit: 2, node: 'n2', now: new Date(later.getTime() + HOUR) })).toHaveLength(2);
    proxy.accept();
    await Promise.all([completed.done, retried.done]);
    expect(completed.reason).toBeInstanceOf(StaleAttemptError);
    expect(retried.reason).toBeInstanceOf(StaleAttemptError);
    expect(await direct.get(a!.id)).toMatchObject({ state: 'running', attempt: 2, result: null });
    expect(await direct.get(c!.id)).toMatchObject({ state: 'running', attempt: 2 });
  });

  it('close gives up on acks still waiting for the server after its timeout, with StoreUnavailableError', async () => {
    // A client that would wait for the server forever: the bound is the writer's.
    const { store, redis, direct, proxy } = await open({ maxRetriesPerRequest: null });
    const [a, c] = await running(store, 2);
    const acks = new RedisAcks(redis);
    proxy.refuse();
    proxy.dropAll();
    const now = new Date();
    const completed = watch(acks.complete('complete', a!, now.getTime(), ''));
    const retried = watch(acks.write('retry', c!, now.getTime(), JSON.stringify({ attempt: 1 }), ''));
    await sleep(200);
    const started = performance.now();
    await acks.close(300);
    expect(performance.now() - started).toBeLessThan(1_500);
    await Promise.all([completed.done, retried.done]);
    expect(completed.reason).toBeInstanceOf(StoreUnavailableError);
    expect(retried.reason).toBeInstanceOf(StoreUnavailableError);
    expect(await direct.get(a!.id)).toMatchObject({ state: 'running' });
  });

  it('a claim whose answer was lost (ioredis sends it again) answers the jobs it took, and takes no more', async () => {
    const { store, direct, proxy } = await open();
    const now = new Date();
    await store.insert(Array.from({ length: 6 }, (_, n) => newJobInput(now, { args: { n } })));
    proxy.loseNextReply();
    const first = await store.claim({ queue: 'default', limit: 2, node: 'n1', now });
    proxy.loseNextReply();
    const limits = { queue: { capacity: 100, refillPerSecond: 1 } };
    const second = await store.rateLimits.claim({ queue: 'default', limit: 2, node: 'n1', now }, limits);
    expect(proxy.accepted).toBeGreaterThanOrEqual(3);
    expect(first.map((job) => [job.args, job.attempt])).toEqual([
      [{ n: 0 }, 1],
      [{ n: 1 }, 1],
    ]);
    expect(second.jobs.map((job) => [job.args, job.attempt])).toEqual([
      [{ n: 2 }, 1],
      [{ n: 3 }, 1],
    ]);
    // Nothing runs that its node does not know of, and the bucket was debited once per job.
    const ids = (jobs: { id: string }[]) => jobs.map((job) => job.id).sort();
    expect(ids(await direct.list({ states: ['running'] }))).toEqual(ids([...first, ...second.jobs]));
    expect((await direct.list({ states: ['available'], order: 'asc' })).map((job) => job.args)).toEqual([{ n: 4 }, { n: 5 }]);
    expect((await direct.rateLimits.status('queues', 'default', limits.queue, now)).tokens).toBeCloseTo(98, 0);
  });
});
