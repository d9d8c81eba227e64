import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openSqlite } from '../../lib/sqlite/sqlite.connection.js';
import { SqliteStore } from '../../lib/sqlite/sqlite.store.js';
import { newJobInput } from '../../lib/store/conformance/suite.js';
import type { ClaimRateLimits, ClaimRequest } from '../../lib/store/index.js';

const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const drop of drops.splice(0)) await drop();
});

/** 10 jobs a second, 10 at most at once. */
const limits: ClaimRateLimits = { jobs: new Map([['work', { capacity: 10, refillPerSecond: 10 }]]) };
const T = Date.UTC(2026, 0, 1);

it('SQLite: a claim that waited for the write lock takes its tokens at the time it holds it, not when it was sent', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scheduler-sqlite-rate-'));
  const path = join(dir, 'jobs.db');
  // Two processes on one file, one clock (one machine).
  let clock = T;
  const a = new SqliteStore(await openSqlite({ type: 'sqlite', path }), {}, { node: 'a', now: () => clock });
  const b = new SqliteStore(await openSqlite({ type: 'sqlite', path }), {}, { node: 'b', now: () => clock });
  drops.push(async () => {
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  });
  await a.init();
  await b.init();
  await a.insert(Array.from({ length: 30 }, () => newJobInput(new Date(T), { name: 'work' })));
  const claim = (store: SqliteStore, node: string, sentAt: number) => {
    const request: ClaimRequest = { queue: 'default', limit: 30, node, now: new Date(sentAt) };
    return store.rateLimits.claim(request, limits);
  };

  // a's claim was sent at T and got the lock 300 ms later (another process's transaction held it): the
  // bucket is new, and full, at T + 300.
  clock = T + 300;
  expect((await claim(a, 'a', T)).jobs).toHaveLength(10);
  // b claims at that same moment: nothing has refilled. Taken from T, the bucket would have refilled 3
  // tokens for the wait, and 13 jobs would start within an instant from a bucket of 10.
  expect((await claim(b, 'b', T + 300)).jobs).toHaveLength(0);
  // A second later, a second's tokens, whoever claims.
  clock = T + 1_300;
  expect((await claim(b, 'b', T + 1_300)).jobs).toHaveLength(10);
  const status = await a.rateLimits.status('jobs', 'work', { capacity: 10, refillPerSecond: 10 }, new Date(clock));
  expect(status.tokens).toBeLessThan(0.01);
});
