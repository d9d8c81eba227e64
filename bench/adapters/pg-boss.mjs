/**
 * pg-boss 12: LISTEN/NOTIFY on (instance `useListenNotify` + queue `notify`),
 * batch fetch: one worker per process fetching `batchSize = concurrency` jobs
 * at a time and running them concurrently, fetching again at once while
 * batches come back full (`burstWhenBatchFull`).
 * Its cron is minute-granular, so the every-second lateness scenario is skipped.
 */
import { PgBoss } from 'pg-boss';
import { DATABASE_URL, dropSchema, probe, runId } from '../common.mjs';

export function createPgBoss() {
  const id = runId();
  const schema = `bench_pb_${id}`;
  const queue = 'noop';
  let boss;
  let concurrency = 10;
  let onJob = () => {};

  return {
    name: 'pg-boss',
    ours: false,
    backend: 'postgres',
    schema,
    supportsSchedule: false,
    scheduleNote: 'schedules are cron (minute-granular)',

    async setup(opts) {
      concurrency = opts.concurrency ?? 10;
      onJob = opts.onJob ?? onJob;
      boss = new PgBoss({ connectionString: DATABASE_URL, schema, useListenNotify: true });
      boss.on('error', (error) => console.error(`[pg-boss] ${error.message}`));
      await boss.start();
      await boss.createQueue(queue, { notify: true });
    },

    async enqueueBatch(argsList) {
      await boss.insert(
        queue,
        argsList.map((data) => ({ data })),
      );
    },

    async enqueueOne(args) {
      await boss.send(queue, args);
    },

    async startWorker() {
      await boss.work(queue, { batchSize: concurrency, burstWhenBatchFull: true }, async (jobs) => {
        await Promise.all(jobs.map(async (job) => onJob(job.data)));
      });
    },

    async pending() {
      const { rows } = await probe(`SELECT count(*)::int AS n FROM "${schema}".job WHERE name = $1 AND state < 'completed'`, [queue]);
      return rows[0].n;
    },

    async stop() {
      if (boss) await boss.stop({ graceful: true, close: true, timeout: 10_000 });
      boss = undefined;
    },

    async cleanup() {
      await dropSchema(schema);
    },
  };
}

export const pgBoss = () => createPgBoss();
