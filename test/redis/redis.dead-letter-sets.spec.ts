import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openRedis } from '../../lib/redis/redis.client.js';
import { RedisStore } from '../../lib/redis/redis.store.js';
import { newJobInput } from '../../lib/store/index.js';
import type { ErrorClass, JobAttemptError } from '../../lib/store/job.types.js';
import { redisUrl, testKeyPrefix } from '../support/redis.js';

const failure = (attempt: number, errorClass: ErrorClass): JobAttemptError => ({
  attempt,
  at: new Date(),
  name: 'Error',
  message: 'failed',
  kind: 'error',
  errorClass,
});
const pad = (id: string) => id.padStart(16, '0');

/**
 * Dead letters are kept in one set per queue, name and error class, so that
 * a filtered list or retry walks the smallest of them, not every dead letter
 * (the whole walk is one script, during which Redis serves no one else).
 */
describe('Redis store: dead letters by queue, name and class', () => {
  let admin: Redis;
  let store: RedisStore;
  let prefix: { keyPrefix: string; drop(): Promise<void> };
  const key = (name: string) => `{${prefix.keyPrefix}}:${name}`;

  beforeEach(async () => {
    prefix = testKeyPrefix('dls');
    admin = new Redis(redisUrl());
    store = new RedisStore(await openRedis({ url: redisUrl(), keyPrefix: prefix.keyPrefix }));
    await store.init();
  });
  afterEach(async () => {
    await store.close();
    await admin.quit();
    await prefix.drop();
  });

  /** Dead letters: `spec` is [queue, name, error class] a job. */
  async function kill(spec: [string, string, ErrorClass][]): Promise<string[]> {
    const now = new Date();
    const ids: string[] = [];
    for (const [queue, name, cls] of spec) {
      const [{ job }] = await store.insert([newJobInput(now, { queue, name, maxAttempts: 1 })]);
      const [claimed] = await store.claim({ queue, limit: 1, node: 'n', now });
      expect(claimed!.id).toBe(job.id);
      await store.fail({ id: job.id, attempt: 1 }, 'dead', failure(1, cls), now);
      ids.push(job.id);
    }
    return ids;
  }
  const names = (jobs: { id: string }[]) => jobs.map((j) => j.id).sort();

  it('a filtered list walks the smallest of its sets, which every death and retry keeps', async () => {
    const [a1, a2, ax, b1] = await kill([
      ['a', 'one', 'terminal'],
      ['a', 'one', 'terminal'],
      ['a', 'x', 'terminal'],
      ['b', 'one', 'terminal'],
    ]);
    expect({ q: await admin.zcard(key('dq:a')), n: await admin.zcard(key('dn:one')), x: await admin.zcard(key('dn:x')) }).toEqual({ q: 3, n: 3, x: 1 });
    // Taken out of the queue's set and the whole set, with the queue's count to match: found only through its name's set.
    await admin.zrem(key('dq:a'), pad(ax!));
    await admin.zrem(key('dead'), pad(ax!));
    await admin.hincrby(key('dstat'), 'q:a', -1);
    expect(names(await store.listDead({ queue: 'a', name: 'x' }, 10, 0))).toEqual([ax]);
    expect(names(await store.listDead({ queue: 'a' }, 10, 0))).toEqual([a1, a2].sort());
    expect(names(await store.listDead({}, 10, 0))).toEqual([a1, a2, b1].sort());
    // A retry through the name's set leaves every set it was in.
    expect(names(await store.resurrectDead({ queue: 'b', name: 'one' }, 10, new Date()))).toEqual([b1]);
    expect({ b: await admin.zcard(key('dq:b')), one: await admin.zcard(key('dn:one')), cls: await admin.zcard(key('dc:terminal')) }).toEqual({
      b: 0,
      one: 2,
      cls: 3,
    });
  });

  it('dead letters of a build that kept no such sets: listed and retried through every dead letter, then indexed at the next start', async () => {
    const [a1, a2, b1] = await kill([
      ['a', 'one', 'terminal'],
      ['a', 'two', 'transient'],
      ['b', 'one', 'terminal'],
    ]);
    const sets = await admin.keys(key('d[qnc]:*'));
    expect(sets).toHaveLength(6);
    await admin.del(...sets);
    expect(names(await store.listDead({ queue: 'a' }, 10, 0))).toEqual([a1, a2].sort());
    expect(names(await store.listDead({ name: 'one', errorClass: 'terminal' }, 10, 0))).toEqual([a1, b1].sort());
    await store.init();
    expect(await admin.keys(key('d[qnc]:*'))).toHaveLength(6);
    expect({ a: await admin.zcard(key('dq:a')), one: await admin.zcard(key('dn:one')), te: await admin.zcard(key('dc:transient')) }).toEqual({
      a: 2,
      one: 2,
      te: 1,
    });
    // Indexed: a filter reads its set (a2 no longer in the whole set, still listed by its queue).
    await admin.zrem(key('dead'), pad(a2!));
    expect(names(await store.listDead({ queue: 'a' }, 10, 0))).toEqual([a1, a2].sort());
    expect(names(await store.resurrectDead({ errorClass: 'transient' }, 10, new Date()))).toEqual([a2]);
    expect(await admin.zcard(key('dc:transient'))).toBe(0);
  });

  it('indexing that fails does not fail the start: it warns, and the reads walk every dead letter', async () => {
    const [a1] = await kill([['a', 'one', 'terminal']]);
    await admin.del(...(await admin.keys(key('d[qnc]:*'))));
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const redis = await openRedis({ url: redisUrl(), keyPrefix: prefix.keyPrefix });
    const run = redis.run.bind(redis);
    vi.spyOn(redis, 'run').mockImplementation((name, ...args) => (name === 'schedIndexDead' ? Promise.reject(new Error('OOM')) : run(name, ...args)));
    const other = new RedisStore(redis);
    try {
      await other.init();
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringMatching(/^indexing the dead letters .* failed \(OOM\)/)]);
      expect(names(await other.listDead({ queue: 'a' }, 10, 0))).toEqual([a1]);
    } finally {
      await other.close();
      vi.restoreAllMocks();
    }
  });

  it('a set that disagrees with its count is not used: the list walks every dead letter', async () => {
    const [a1] = await kill([['a', 'one', 'terminal']]);
    // A stale member (as a build that kept no sets leaves one when it retries a dead letter): the set holds 2, the count says 1.
    await admin.zadd(key('dq:a'), 1, pad('999999'));
    expect(names(await store.listDead({ queue: 'a' }, 10, 0))).toEqual([a1]);
    expect(await store.resurrectDead({ queue: 'a' }, 10, new Date())).toHaveLength(1);
  });
});
