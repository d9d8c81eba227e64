import { Injectable, Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Scheduled, SchedulerModule, SchedulerService, type JobContext } from '../../lib/index.js';
import { MAX_UNACKED } from '../../lib/queue/queue.runner.js';
import { createTestSchema } from '../support/postgres.js';
import { sleep, waitFor } from '../support/wait.js';

const JOBS = 6_000;
const CONCURRENCY = 50;
const PREFETCH = 100;

@Injectable()
class Noop {
  readonly ran = new Map<string, number>();
  @Scheduled({ name: 'noop' })
  run(ctx: JobContext) {
    this.ran.set(ctx.id, (this.ran.get(ctx.id) ?? 0) + 1);
  }
}

/**
 * A runner frees a slot when its handler ends, before the store has written
 * the acknowledgement. When PostgreSQL cannot write acknowledgements (here: a
 * session holds the lock every completion needs on the queue counters), the
 * runner must stop claiming near MAX_UNACKED instead of running the whole
 * backlog into memory. An acknowledgement the server cancels after
 * `statement_timeout` is sent again rather than given up (which would leave
 * its job running in the store, to be rescued and run a second time), so
 * once the lock goes every job is acknowledged, and none ran twice.
 */
describe('PostgreSQL: claims wait while acknowledgements cannot be written', () => {
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let app: TestingModule;
  let blocker: pg.Client;

  beforeAll(async () => {
    db = await createTestSchema('backpressure');
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    app = await Test.createTestingModule({
      imports: [
        SchedulerModule.forRoot({
          // Short, so the acknowledgements waiting on the lock are cancelled by the server and sent again many times.
          store: { type: 'postgres', url: db.url, schema: db.schema, statementTimeout: '1s' },
          pollInterval: '200ms',
          queues: { default: { concurrency: CONCURRENCY, prefetch: PREFETCH } },
        }),
      ],
      providers: [Noop],
    }).compile();
    await app.init();
    blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
  });
  afterAll(async () => {
    await blocker?.end().catch(() => undefined);
    await app?.close();
    await db?.drop();
    vi.restoreAllMocks();
  });

  it('stops claiming near MAX_UNACKED ended attempts, then acknowledges every job once when the writes go through', async () => {
    const scheduler = app.get(SchedulerService);
    const noop = app.get(Noop);
    // Completions count finished jobs per queue in this table; claims and inserts do not touch it.
    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE "${db.schema}".scheduler_queue_counts IN EXCLUSIVE MODE`);

    for (let i = 0; i < JOBS; i += 1_000)
      await scheduler.enqueueMany(
        'noop',
        Array.from({ length: 1_000 }, (_, k) => ({ n: i + k })),
      );

    await waitFor(() => noop.ran.size >= MAX_UNACKED, 60_000, `${MAX_UNACKED} handlers to run`);
    // Held: the slots empty (nothing new is claimed) and no handler starts for half a second. The slots
    // can be empty for a moment while jobs claimed into the buffer before the stop are still to start.
    let seen = -1;
    let since = Date.now();
    await waitFor(
      async () => {
        const size = noop.ran.size;
        if (size !== seen || (await scheduler.queueStats('default')).runningHere !== 0) {
          seen = size;
          since = Date.now();
          return false;
        }
        return Date.now() - since >= 500;
      },
      30_000,
      'the slots to empty and stay empty',
    );
    const held = noop.ran.size;
    await sleep(2_000);
    expect(noop.ran.size).toBe(held);
    // What ran: the ended attempts that stopped the claims, plus at most what was already claimed into the buffer and the slots.
    expect(held).toBeLessThanOrEqual(MAX_UNACKED + CONCURRENCY + PREFETCH + CONCURRENCY);
    const stats = await scheduler.queueStats('default');
    expect(stats.completed).toBe(0);
    expect(stats.available).toBeGreaterThanOrEqual(JOBS - held - PREFETCH - CONCURRENCY);

    await blocker.query('ROLLBACK');
    await waitFor(async () => (await scheduler.queueStats('default')).completed === JOBS, 120_000, 'every job to complete');
    expect(noop.ran.size).toBe(JOBS);
    expect([...noop.ran].filter(([, times]) => times > 1)).toEqual([]);
  }, 240_000);
});
