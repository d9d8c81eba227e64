/**
 * The adapters, one per library and configuration, all behind one interface:
 *
 *   name, ours, backend ('postgres' | 'redis' | 'memory' | 'sqlite'), supportsSchedule, scheduleNote?
 *   schema                   PostgreSQL: the run's own schema (the backlog scenario vacuums its tables)
 *   setup({ role, concurrency, onJob, onTick })  role: 'enqueue' | 'drain' | 'latency' | 'schedule'
 *   enqueueBatch(argsList)   the library's batch API, one call
 *   enqueueOne(args)         one job, one call
 *   startWorker()            start running jobs (each calls onJob(args))
 *   pauseWorker()            optional: stop claiming jobs, the producer stays usable; startWorker again resumes
 *   pending()                jobs not yet finished and acknowledged
 *   stop()                   stop the worker and close every connection
 *   cleanup()                delete this run's schema / queue (fresh names every run)
 *
 * The keys are the names used on the command line.
 */
export const ADAPTERS = {
  'graphile-worker': () => import('./graphile-worker.mjs').then((m) => m.defaults()),
  'graphile-worker-batched': () => import('./graphile-worker.mjs').then((m) => m.batched()),
  'pg-boss': () => import('./pg-boss.mjs').then((m) => m.pgBoss()),
  'bullmq-redis': () => import('./bullmq.mjs').then((m) => m.redis()),
  'bullmq-postgres': () => import('./bullmq.mjs').then((m) => m.postgres()),
  'nestjs-scheduler-memory': () => import('./nestjs-scheduler.mjs').then((m) => m.memory()),
  'nestjs-scheduler-sqlite': () => import('./nestjs-scheduler.mjs').then((m) => m.sqlite()),
  'nestjs-scheduler-redis': () => import('./nestjs-scheduler.mjs').then((m) => m.redis()),
  'nestjs-scheduler-postgres': () => import('./nestjs-scheduler.mjs').then((m) => m.postgres()),
  'nestjs-scheduler-postgres-forget': () => import('./nestjs-scheduler.mjs').then((m) => m.postgresForget()),
  'nestjs-scheduler-postgres-remote': () => import('./nestjs-scheduler.mjs').then((m) => m.postgresRemote()),
  'nestjs-scheduler-postgres-remote-claim': () => import('./nestjs-scheduler.mjs').then((m) => m.postgresRemoteClaim()),
  'nestjs-scheduler-memory-policies': () => import('./nestjs-scheduler.mjs').then((m) => m.memoryPolicies()),
  'nestjs-scheduler-postgres-policies': () => import('./nestjs-scheduler.mjs').then((m) => m.postgresPolicies()),
  'nestjs-scheduler-memory-metrics': () => import('./nestjs-scheduler.mjs').then((m) => m.memoryMetrics()),
  'nestjs-scheduler-memory-metrics-lean': () => import('./nestjs-scheduler.mjs').then((m) => m.memoryMetricsLean()),
  'nestjs-scheduler-memory-metrics-off': () => import('./nestjs-scheduler.mjs').then((m) => m.memoryMetricsOff()),
  'nestjs-scheduler-postgres-metrics': () => import('./nestjs-scheduler.mjs').then((m) => m.postgresMetrics()),
  'nestjs-scheduler-memory-metrics-producer': () => import('./nestjs-scheduler.mjs').then((m) => m.memoryMetricsProducer()),
  'nestjs-scheduler-postgres-metrics-producer': () => import('./nestjs-scheduler.mjs').then((m) => m.postgresMetricsProducer()),
};

/**
 * Static facts the orchestrator needs without loading a library. `backlog`: runs the backlog
 * scenario (ours, and the peer issue #14 measures against; needs `pauseWorker`).
 */
export const ADAPTER_INFO = {
  'graphile-worker': { label: 'graphile-worker', ours: false, backend: 'postgres', schedule: false, note: 'cron is minute-granular' },
  'graphile-worker-batched': {
    label: 'graphile-worker (batched)',
    ours: false,
    backend: 'postgres',
    schedule: false,
    note: 'cron is minute-granular',
    backlog: true,
  },
  'pg-boss': { label: 'pg-boss', ours: false, backend: 'postgres', schedule: false, note: 'schedules are minute-granular cron' },
  'bullmq-redis': { label: 'BullMQ (redis)', ours: false, backend: 'redis', schedule: true },
  'bullmq-postgres': { label: 'BullMQ (postgres)', ours: false, backend: 'postgres', schedule: true },
  'nestjs-scheduler-memory': { label: 'nestjs-scheduler (memory)', ours: true, backend: 'memory', schedule: true },
  // One file in a fresh temporary directory (WAL, synchronous=NORMAL, as the store opens it): no server.
  'nestjs-scheduler-sqlite': { label: 'nestjs-scheduler (sqlite)', ours: true, backend: 'sqlite', schedule: true },
  // The Redis of BullMQ's adapter (BENCH_REDIS_URL), a fresh key prefix per measurement.
  'nestjs-scheduler-redis': { label: 'nestjs-scheduler (redis)', ours: true, backend: 'redis', schedule: true },
  'nestjs-scheduler-postgres': { label: 'nestjs-scheduler (postgres)', ours: true, backend: 'postgres', schedule: true, backlog: true },
  // A variant: only the drains differ from the default configuration.
  'nestjs-scheduler-postgres-forget': {
    label: 'nestjs-scheduler (postgres, no history)',
    ours: true,
    backend: 'postgres',
    schedule: false,
    scenarios: ['drain'],
  },
  'nestjs-scheduler-postgres-remote': {
    label: 'nestjs-scheduler (postgres, enqueued on another node)',
    ours: true,
    backend: 'postgres',
    schedule: false,
    scenarios: ['latency'],
  },
  // The same with push to idle nodes off: the job waits for NOTIFY and a claim.
  'nestjs-scheduler-postgres-remote-claim': {
    label: 'nestjs-scheduler (postgres, enqueued on another node, no push)',
    ours: true,
    backend: 'postgres',
    schedule: false,
    scenarios: ['latency'],
  },
  // The drains with a rate limit far above their speed and a closed circuit breaker: the cost of the policies (issue #15: at most 10 %).
  'nestjs-scheduler-memory-policies': {
    label: 'nestjs-scheduler (memory, rate limit and breaker)',
    ours: true,
    backend: 'memory',
    schedule: false,
    scenarios: ['drain'],
  },
  'nestjs-scheduler-postgres-policies': {
    label: 'nestjs-scheduler (postgres, rate limit and breaker)',
    ours: true,
    backend: 'postgres',
    schedule: false,
    scenarios: ['drain'],
  },
  // The drains with metrics into a real OpenTelemetry SDK (issue #18: at most 5 %), and with metrics turned off (the default, no SDK, must cost nothing).
  'nestjs-scheduler-memory-metrics': {
    label: 'nestjs-scheduler (memory, metrics into an SDK)',
    ours: true,
    backend: 'memory',
    schedule: false,
    scenarios: ['drain'],
  },
  'nestjs-scheduler-memory-metrics-lean': {
    label: 'nestjs-scheduler (memory, metrics into an SDK, storeOperations: false)',
    ours: true,
    backend: 'memory',
    schedule: false,
    scenarios: ['drain'],
  },
  'nestjs-scheduler-memory-metrics-off': {
    label: 'nestjs-scheduler (memory, metrics off)',
    ours: true,
    backend: 'memory',
    schedule: false,
    scenarios: ['drain'],
  },
  'nestjs-scheduler-postgres-metrics': {
    label: 'nestjs-scheduler (postgres, metrics into an SDK)',
    ours: true,
    backend: 'postgres',
    schedule: false,
    scenarios: ['drain'],
  },
  // The same, with the histograms kept by a SchedulerMetricProducer (nestjs-scheduler/metrics) the reader collects.
  'nestjs-scheduler-memory-metrics-producer': {
    label: 'nestjs-scheduler (memory, metrics into an SDK, histograms by the producer)',
    ours: true,
    backend: 'memory',
    schedule: false,
    scenarios: ['drain'],
  },
  'nestjs-scheduler-postgres-metrics-producer': {
    label: 'nestjs-scheduler (postgres, metrics into an SDK, histograms by the producer)',
    ours: true,
    backend: 'postgres',
    schedule: false,
    scenarios: ['drain'],
  },
};
