/**
 * graphile-worker 0.18: library defaults, or its batching settings
 * (worker.localQueue.size = 500, completeJobBatchDelay = 0, failJobBatchDelay = 0,
 * see https://worker.graphile.org/docs/performance#batching).
 * It has cron (minute granularity only), so the every-second lateness
 * scenario is skipped.
 */
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { DATABASE_URL, dropSchema, probe, runId } from '../common.mjs';

const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error') console.error(`[graphile-worker] ${message}`);
});

export function createGraphileWorker({ batched }) {
  const id = runId();
  const schema = `bench_gw_${id}`;
  let utils;
  let runner;
  let concurrency = 10;
  let onJob = () => {};

  const preset = batched ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } : undefined;

  return {
    name: batched ? 'graphile-worker (batched)' : 'graphile-worker',
    ours: false,
    backend: 'postgres',
    schema,
    supportsSchedule: false,
    scheduleNote: 'cron is minute-granular (no every-second schedule)',

    async setup(opts) {
      concurrency = opts.concurrency ?? 10;
      onJob = opts.onJob ?? onJob;
      utils = await makeWorkerUtils({ connectionString: DATABASE_URL, schema, logger: quietLogger });
      await utils.migrate();
    },

    async enqueueBatch(argsList) {
      await utils.addJobs(argsList.map((payload) => ({ identifier: 'noop', payload })));
    },

    async enqueueOne(args) {
      await utils.addJob('noop', args);
    },

    async startWorker() {
      runner = await run({
        connectionString: DATABASE_URL,
        schema,
        concurrency,
        noHandleSignals: true,
        logger: quietLogger,
        taskList: {
          noop: async (payload) => {
            onJob(payload);
          },
        },
        ...(preset ? { preset } : {}),
      });
    },

    /** Stops the runner (it claims no more); startWorker starts a new one. */
    async pauseWorker() {
      await runner?.stop();
      runner = undefined;
    },

    async pending() {
      const { rows } = await probe(`SELECT count(*)::int AS n FROM "${schema}"._private_jobs`);
      return rows[0].n;
    },

    async stop() {
      if (runner) await runner.stop();
      runner = undefined;
      if (utils) await utils.release();
      utils = undefined;
    },

    async cleanup() {
      await dropSchema(schema);
    },
  };
}

export const defaults = () => createGraphileWorker({ batched: false });
export const batched = () => createGraphileWorker({ batched: true });
