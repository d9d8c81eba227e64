/**
 * nestjs-scheduler (this repository, loaded from ../dist): memory, PostgreSQL, SQLite or Redis store.
 *
 * A minimal Nest application context with SchedulerModule.forRoot and one
 * provider whose methods are decorated by hand: `noop` (no schedule: runs
 * what is enqueued) and, for the lateness scenario only, `tick`
 * (`every: '1s'`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATABASE_URL, REDIS_URL, deleteRedisKeys, dropSchema, probe, runId, wallNow } from '../common.mjs';

/**
 * `store`: 'memory', 'postgres', 'sqlite' (a file in a fresh temporary
 * directory, removed after; the store opens it in WAL mode with
 * synchronous=NORMAL) or 'redis' (BENCH_REDIS_URL, a fresh key prefix
 * whose keys are deleted after). `forget`: `retention: { completed: 0 }`,
 * completed jobs deleted as they complete (no history, like graphile-worker's
 * deletion or BullMQ's removeOnComplete). `remote`: jobs are enqueued through
 * a second, producer-only application (`queues: false`, as a web node), so
 * they are pushed to the idle worker (inserted claimed for it, the worker
 * told by NOTIFY) rather than inserted already claimed by the worker itself.
 * `push: false` turns push off: then they reach the worker by NOTIFY and a claim.
 * `policies`: the drained queue has a rate limit far above any drain's
 * speed (1,000,000 a second), so no job ever waits for a token, and the job
 * runs under a circuit breaker that stays closed: what it measures is the
 * cost of the failure policies when nothing fails.
 * `metrics`: 'sdk' records OpenTelemetry metrics into a real SDK
 * MeterProvider (@opentelemetry/sdk-metrics) whose reader collects every
 * 10 s into an in-memory exporter, as an app exporting them would; 'sdk-lean'
 * the same with `storeOperations: false`; 'off'
 * sets `metrics: { enabled: false }`. Unset: the default, metrics enabled
 * with no SDK registered (the API's no-op meter).
 */
export function createNestjsScheduler(store, { forget = false, remote = false, push = true, policies = false, metrics } = {}) {
  const id = runId();
  const schema = `bench_ns_${id}`;
  let app;
  let scheduler;
  let producerApp;
  let producer;
  let paused = false;
  // SQLite: the file's directory is made at setup; Redis: every key is `{bench_ns_<id>}:…`.
  let sqliteDir;
  let meterProvider;
  const storeOption = () => {
    if (store === 'postgres') return { type: 'postgres', url: DATABASE_URL, schema, push };
    if (store === 'redis') return { type: 'redis', url: REDIS_URL, keyPrefix: schema, warnWithoutPersistence: false };
    if (store === 'sqlite') {
      sqliteDir ??= mkdtempSync(path.join(os.tmpdir(), 'bench-ns-sqlite-'));
      return { type: 'sqlite', path: path.join(sqliteDir, 'scheduler.db') };
    }
    return 'memory';
  };

  return {
    name: `nestjs-scheduler (${store}${forget ? ', no history' : ''}${remote ? ', enqueued on another node' : ''}${push ? '' : ', no push'}${policies ? ', rate limit and breaker' : ''}${metrics ? `, metrics ${metrics}` : ''})`,
    ours: true,
    backend: store,
    schema: store === 'postgres' ? schema : undefined,
    supportsSchedule: true,

    async setup({ role, concurrency = 10, onJob = () => {}, onTick }) {
      const { Injectable, Module, NestFactory, SchedulerModule, SchedulerService, Scheduled, SchedulerMetricProducer, decorateMethod } =
        await import('../nest.mjs');

      class BenchJobs {
        run(ctx) {
          onJob(ctx.args);
        }
        tick(ctx) {
          onTick?.({ scheduledAt: ctx.scheduledAt.getTime(), startedAt: wallNow() });
        }
      }
      decorateMethod(Scheduled({ name: 'noop', ...(policies ? { circuitBreaker: 'bench' } : {}) }), BenchJobs, 'run');
      if (role === 'schedule') decorateMethod(Scheduled({ name: 'tick', every: '1s' }), BenchJobs, 'tick');
      Injectable()(BenchJobs);

      // 'sdk-producer': the histograms aggregated by the scheduler and handed to the same reader (nestjs-scheduler/metrics);
      // 'sdk-producer-lean': the same with storeOperations: false (no store timer).
      const metricProducer = metrics === 'sdk-producer' || metrics === 'sdk-producer-lean' ? new SchedulerMetricProducer() : undefined;
      if (metrics === 'sdk' || metrics === 'sdk-lean' || metricProducer) {
        const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
        const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
        const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 10_000, metricProducers: metricProducer ? [metricProducer] : [] });
        meterProvider = new MeterProvider({ readers: [reader] });
      }
      const metricsOption =
        metrics === 'sdk'
          ? { metrics: { meterProvider } }
          : metricProducer
            ? { metrics: { meterProvider, producer: metricProducer, ...(metrics === 'sdk-producer-lean' ? { storeOperations: false } : {}) } }
            : metrics === 'sdk-lean'
              ? { metrics: { meterProvider, storeOperations: false } }
              : metrics === 'off'
                ? { metrics: { enabled: false } }
                : {};
      const moduleFor = (options) => {
        class BenchModule {}
        Module({
          imports: [
            SchedulerModule.forRoot({
              store: storeOption(),
              pollInterval: '1s',
              ...(forget ? { retention: { completed: 0 } } : {}),
              ...(policies ? { rateLimits: { queues: { default: { limit: 1_000_000, per: '1s' } } }, circuitBreakers: { bench: {} } } : {}),
              ...metricsOption,
              ...options,
            }),
          ],
          providers: [BenchJobs],
        })(BenchModule);
        return BenchModule;
      };

      // A producer-only process (the enqueue scenarios) runs nothing, like the peers' producers.
      app = await NestFactory.createApplicationContext(moduleFor({ queues: { default: concurrency }, enabled: role !== 'enqueue' }), {
        logger: ['error', 'warn'],
      });
      scheduler = app.get(SchedulerService);
      producer = scheduler;
      if (remote) {
        producerApp = await NestFactory.createApplicationContext(moduleFor({ queues: false, peer: false }), { logger: ['error', 'warn'] });
        producer = producerApp.get(SchedulerService);
      }
      if (role === 'drain') {
        // Jobs are enqueued first, then the queue is resumed: the drain starts on a full queue.
        await scheduler.pauseQueue('default');
        paused = true;
      }
    },

    async enqueueBatch(argsList) {
      await scheduler.enqueueMany('noop', argsList);
    },

    async enqueueOne(args) {
      await producer.enqueue('noop', args);
    },

    async startWorker() {
      if (paused) {
        paused = false;
        await scheduler.resumeQueue('default');
      }
    },

    /** Stops claiming (the queue is paused); startWorker resumes it. */
    async pauseWorker() {
      await scheduler.pauseQueue('default');
      paused = true;
    },

    /**
     * Jobs not finished yet (queued or running, acknowledgements included).
     * PostgreSQL: one query on the harness's own connection, like the other
     * PostgreSQL adapters, over the ready list and the jobs of live claims
     * still running (migration 4): a count of the jobs table by state
     * read the whole history every 5 ms, ~1.7 µs of PostgreSQL CPU a job
     * inside the measured window, where graphile-worker's count reads a
     * table its completions empty. Memory, SQLite and Redis: the library's
     * queueStats (SQLite: read in the process; Redis: one script, as
     * BullMQ's getJobCounts is).
     */
    async pending() {
      if (store === 'postgres') {
        const { rows } = await probe(
          `SELECT (SELECT count(*) FROM "${schema}".scheduler_ready)::int + (SELECT count(*) FROM "${schema}".scheduler_claims c
            CROSS JOIN LATERAL unnest(c.ids) AS i(id) JOIN "${schema}".scheduler_jobs j ON j.id = i.id AND j.claim = c.token
            WHERE j.state = 'running')::int AS n`,
        );
        return rows[0].n;
      }
      const s = await scheduler.queueStats('default');
      return s.available + s.scheduled + s.running;
    },

    async stop() {
      if (producerApp) await producerApp.close();
      producerApp = undefined;
      if (app) await app.close();
      app = undefined;
      await meterProvider?.shutdown();
      meterProvider = undefined;
    },

    async cleanup() {
      if (store === 'postgres') await dropSchema(schema);
      if (store === 'redis') await deleteRedisKeys(`{${schema}}:*`);
      if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
    },
  };
}

export const memory = () => createNestjsScheduler('memory');
export const postgres = () => createNestjsScheduler('postgres');
export const sqlite = () => createNestjsScheduler('sqlite');
export const redis = () => createNestjsScheduler('redis');
export const postgresForget = () => createNestjsScheduler('postgres', { forget: true });
export const postgresRemote = () => createNestjsScheduler('postgres', { remote: true });
export const postgresRemoteClaim = () => createNestjsScheduler('postgres', { remote: true, push: false });
export const memoryPolicies = () => createNestjsScheduler('memory', { policies: true });
export const postgresPolicies = () => createNestjsScheduler('postgres', { policies: true });
export const memoryMetrics = () => createNestjsScheduler('memory', { metrics: 'sdk' });
export const memoryMetricsLean = () => createNestjsScheduler('memory', { metrics: 'sdk-lean' });
export const memoryMetricsOff = () => createNestjsScheduler('memory', { metrics: 'off' });
export const postgresMetrics = () => createNestjsScheduler('postgres', { metrics: 'sdk' });
export const memoryMetricsProducer = () => createNestjsScheduler('memory', { metrics: 'sdk-producer' });
export const postgresMetricsProducer = () => createNestjsScheduler('postgres', { metrics: 'sdk-producer' });
