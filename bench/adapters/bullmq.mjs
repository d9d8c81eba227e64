/**
 * BullMQ 6.7: on Redis (its home) or on its PostgreSQL backend
 * (`createPostgresBackend`, passed as the last constructor argument).
 * Library defaults otherwise (completed jobs are kept, like the others' history).
 * The lateness scenario uses its job scheduler: upsertJobScheduler(id, { every: 1000 }).
 */
import { Queue, Worker, createPostgresBackend } from 'bullmq';
import { DATABASE_URL, REDIS_URL, dropSchema, runId, wallNow } from '../common.mjs';

export function createBullMQ(backend) {
  const id = runId();
  const queueName = `bench_${id}`;
  const schema = `bench_bq_${id}`;
  const redis = new URL(REDIS_URL);
  const connection =
    backend === 'postgres' ? { connectionString: DATABASE_URL, schema, migrate: true } : { host: redis.hostname, port: Number(redis.port || 6379) };
  const extra = backend === 'postgres' ? [createPostgresBackend] : [];
  let queue;
  let worker;
  let concurrency = 10;
  let onJob = () => {};
  let onTick;

  return {
    name: backend === 'postgres' ? 'BullMQ (postgres)' : 'BullMQ (redis)',
    ours: false,
    backend,
    schema: backend === 'postgres' ? schema : undefined,
    supportsSchedule: true,

    async setup(opts) {
      concurrency = opts.concurrency ?? 10;
      onJob = opts.onJob ?? onJob;
      onTick = opts.onTick;
      queue = new Queue(queueName, { connection }, ...extra);
      queue.on('error', (error) => console.error(`[bullmq queue] ${error.message}`));
      await queue.waitUntilReady();
      if (opts.role === 'schedule') await queue.upsertJobScheduler('tick', { every: 1000 }, { name: 'tick' });
    },

    async enqueueBatch(argsList) {
      await queue.addBulk(argsList.map((data) => ({ name: 'noop', data })));
    },

    async enqueueOne(args) {
      await queue.add('noop', args);
    },

    async startWorker() {
      worker = new Worker(
        queueName,
        async (job) => {
          if (job.name === 'tick') {
            // The iteration's planned time: its creation time plus the delay it was given
            // (`job.delay` reads 0 once the job has been promoted; `opts.delay` keeps it).
            onTick?.({ scheduledAt: job.timestamp + (job.opts.delay ?? 0), startedAt: wallNow() });
            return;
          }
          onJob(job.data);
        },
        { connection, concurrency, autorun: false },
        ...extra,
      );
      worker.on('error', (error) => console.error(`[bullmq worker] ${error.message}`));
      void worker.run();
      await worker.waitUntilReady();
    },

    async pending() {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },

    async stop() {
      if (worker) await worker.close();
      worker = undefined;
      if (queue) await queue.close();
      queue = undefined;
    },

    async cleanup() {
      if (backend === 'postgres') {
        await dropSchema(schema);
        return;
      }
      const q = new Queue(queueName, { connection });
      try {
        await q.obliterate({ force: true });
      } finally {
        await q.close();
      }
    },
  };
}

export const redis = () => createBullMQ('redis');
export const postgres = () => createBullMQ('postgres');
