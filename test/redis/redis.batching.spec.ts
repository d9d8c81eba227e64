import { afterEach, describe, expect, it } from 'vitest';
import { openRedis, type RedisConnection } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { StaleAttemptError } from '../../lib/scheduler.errors.js';
import { newJobInput } from '../../lib/store/index.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';

/** The store's batched paths: completions written together, claims whose index writes wait for the end of the script. */
describe('Redis store batching', () => {
  const drops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const drop of drops.splice(0)) await drop();
  });

  /** A store on a fresh prefix, and the names of the scripts it runs. */
  async function open(): Promise<{ store: RedisStore; redis: RedisConnection; calls: string[]; keyPrefix: string }> {
    const keys = testKeyPrefix('batch');
    const redis = await openRedis({ url: redisUrl(), keyPrefix: keys.keyPrefix });
    const calls: string[] = [];
    const run = redis.run;
    redis.run = (script, ...args) => {
      calls.push(script);
      return run(script, ...args);
    };
    const store = new RedisStore(redis);
    drops.push(async () => {
      await store.close();
      await keys.drop();
    });
    return { store, redis, calls, keyPrefix: keys.keyPrefix };
  }

  it('writes the completions of one turn with one script call, each fenced on its own', async () => {
    const { store, calls } = await open();
    const now = new Date();
    await store.insert([newJobInput(now), newJobInput(now), newJobInput(now)]);
    const [a, b, c] = await store.claim({ queue: 'default', limit: 3, node: 'n1', now });
    calls.length = 0;
    const outcomes = await Promise.allSettled([
      store.complete({ id: a!.id, attempt: a!.attempt }, { ok: 1 }, now),
      store.complete({ id: b!.id, attempt: b!.attempt + 1 }, null, now),
      store.complete({ id: c!.id, attempt: c!.attempt }, null, now, { forget: true }),
      // A second completion of the same attempt in the same call is stale, as it would be alone.
      store.complete({ id: a!.id, attempt: a!.attempt }, null, now),
    ]);
    expect(calls).toEqual(['schedAckMany']);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(StaleAttemptError);
    expect((outcomes[3] as PromiseRejectedResult).reason).toBeInstanceOf(StaleAttemptError);
    expect(await store.get(a!.id)).toMatchObject({ state: 'completed', result: { ok: 1 } });
    expect(await store.get(b!.id)).toMatchObject({ state: 'running' });
    expect(await store.get(c!.id)).toBeNull();
    const [counts] = await store.queueCounts(now);
    expect(counts).toMatchObject({ running: 1, completed: 1 });
  });

  it('prunes a large batch in script calls of at most 1,000: one long script would stall every client of the server', async () => {
    const { store, calls } = await open();
    const now = new Date();
    await store.insert(Array.from({ length: 2_500 }, () => newJobInput(now)));
    const jobs = await store.claim({ queue: 'default', limit: 2_500, node: 'n1', now });
    await Promise.all(jobs.map((j) => store.complete({ id: j.id, attempt: j.attempt }, null, now)));
    calls.length = 0;
    expect(await store.prune(['completed'], new Date(now.getTime() + 1), 10_000)).toBe(2_500);
    expect(calls).toEqual(['schedPrune', 'schedPrune', 'schedPrune']);
    calls.length = 0;
    expect(await store.prune(['completed'], new Date(now.getTime() + 1), 10_000)).toBe(0);
    expect(calls).toEqual(['schedPrune']);
  });

  it('writes the completions still queued before it closes', async () => {
    const { store, keyPrefix } = await open();
    const now = new Date();
    await store.insert([newJobInput(now)]);
    const [job] = await store.claim({ queue: 'default', limit: 1, node: 'n1', now });
    const completion = store.complete({ id: job!.id, attempt: job!.attempt }, null, now);
    await store.close();
    await completion;
    const again = new RedisStore(await openRedis({ url: redisUrl(), keyPrefix }));
    try {
      expect(await again.get(job!.id)).toMatchObject({ state: 'completed' });
    } finally {
      await again.close();
    }
  });

  it('answers inserted and claimed jobs (one JSON text each) with quotes, slashes, newlines and non-ASCII text intact', async () => {
    const { store } = await open();
    const now = new Date();
    const args = { text: 'a "quoted" \\ back/slash\nnew line, tab\t, é 日本 🚀', n: 2 ** 53 - 1, nested: [{ x: null }] };
    const [inserted] = await store.insert([newJobInput(now, { args, tags: ['a/b', 'ü'], meta: { 'k"ey': 'v\u0001' } })]);
    const [claimed] = await store.claim({ queue: 'default', limit: 1, node: 'n1', now });
    for (const job of [inserted!.job, claimed!]) {
      expect(job.args).toEqual(args);
      expect(job.tags).toEqual(['a/b', 'ü']);
      expect(job.meta).toEqual({ 'k"ey': 'v\u0001' });
    }
    expect(claimed).toMatchObject({ id: inserted!.job.id, state: 'running', attempt: 1, node: 'n1', runAt: now, startedAt: now });
  });

  it('claims past skipped jobs across pages of the ready set, each job once, fencing tokens rising, counts right', async () => {
    const { store } = await open();
    const now = new Date();
    // Every third job is pinned to another node: the claim steps over them across its 100-member pages.
    await store.insert(Array.from({ length: 300 }, (_, i) => newJobInput(now, { args: { i }, pinnedNode: i % 3 === 0 ? 'other' : null })));
    const first = await store.claim({ queue: 'default', limit: 150, node: 'n1', now });
    const second = await store.claim({ queue: 'default', limit: 150, node: 'n1', now });
    const all = [...first, ...second];
    expect(first).toHaveLength(150);
    expect(second).toHaveLength(50);
    expect(all.map((job) => (job.args as { i: number }).i)).toEqual(Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 3 !== 0));
    const tokens = all.map((job) => job.fencingToken);
    expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
    expect(new Set(tokens).size).toBe(200);
    expect(all.every((job) => job.state === 'running' && job.attempt === 1 && job.node === 'n1')).toBe(true);
    expect(await store.claim({ queue: 'default', limit: 10, node: 'n1', now })).toEqual([]);
    const [counts] = await store.queueCounts(now);
    expect(counts).toMatchObject({ available: 100, running: 200 });
    const [next] = await store.claim({ queue: 'default', limit: 1, node: 'other', now });
    expect(next!.fencingToken).toBeGreaterThan(tokens.at(-1)!);
  });
});
