/**
 * The dashboard scenario's application and its data: the Nest module (four
 * queues, five handlers, two schedules, one workflow) and the loader that
 * fills a PostgreSQL schema with N jobs of mixed states through the library
 * itself (enqueueMany, then a drain), so every side table (ready list,
 * claims, finished counters, dead letters) is what a real history leaves.
 */
import { performance } from 'node:perf_hooks';
import { DATABASE_URL, rootDist, sql, waitFor } from './common.mjs';
import { Injectable, Module, NestFactory, SchedulerModule, SchedulerService, Scheduled, decorateMethod } from './nest.mjs';

const lib = await import(rootDist('lib/index.js'));
const { SchedulerDashboardModule } = await import(rootDist('lib/dashboard/index.js'));

export const QUEUES = ['default', 'mail', 'billing', 'reports'];
/** The queue whose jobs stay available: it is paused (cluster-wide) before the drain. */
export const PAUSED_QUEUE = 'reports';
const NAMES = [
  { name: 'sync', queue: 'default' },
  { name: 'send-mail', queue: 'mail' },
  { name: 'charge', queue: 'billing' },
  { name: 'render-report', queue: 'reports' },
];
export const FLAKY = 'flaky';

/** Shares of the N jobs by the state they end in; the rest (~94 %) completes. */
const SHARES = { dead: 0.01, available: 0.025, scheduled: 0.02, cancelled: 0.005 };

// One function per handler: the decorators keep their metadata on the function.
class Jobs {
  fail() {
    throw new Error('upstream answered 503');
  }
  nightly() {}
}
for (const { name, queue } of NAMES) {
  Jobs.prototype[name] = function () {};
  decorateMethod(Scheduled({ name, queue }), Jobs, name);
}
decorateMethod(Scheduled({ name: FLAKY }), Jobs, 'fail');
// Two schedules that never fall due in a run (03:00 UTC and every 6 h from boot).
decorateMethod(Scheduled({ name: 'nightly-cleanup', cron: '0 3 * * *' }), Jobs, 'nightly');
Jobs.prototype.sixHourly = function () {};
decorateMethod(Scheduled({ name: 'six-hourly', every: '6h' }), Jobs, 'sixHourly');
Injectable()(Jobs);

class Onboarding {
  welcome() {
    return { welcomed: true };
  }
  profile() {
    return { profiled: true };
  }
}
for (const step of ['welcome', 'profile']) decorateMethod(lib.Step(), Onboarding, step);
lib.Workflow({ name: 'onboarding' })(Onboarding);

/** The scheduler's options on `schema`: a worker node of the four queues, defaults otherwise. */
function schedulerOptions(schema, concurrency) {
  return {
    store: { type: 'postgres', url: DATABASE_URL, schema },
    queues: Object.fromEntries(QUEUES.map((q) => [q, concurrency])),
  };
}

/** An HTTP app: the scheduler (PostgreSQL, `schema`) and its dashboard with default options but `allowUnauthenticated`. */
export async function startDashboardApp(schema, { middleware } = {}) {
  class AppModule {}
  Module({
    imports: [SchedulerModule.forRoot(schedulerOptions(schema, 10)), SchedulerDashboardModule.forRoot({ allowUnauthenticated: true })],
    providers: [Jobs, Onboarding],
  })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: ['error'] });
  if (middleware) app.use(middleware);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address();
  return { app, scheduler: app.get(SchedulerService), base: `http://127.0.0.1:${port}/scheduler/api` };
}

const chunked = (n, size) => Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size));

/**
 * Fills `schema` with `n` jobs: a producer-only node (`queues: false`, no
 * push, so nothing is claimed while enqueuing) enqueues them in calls of
 * 1,000, each state spread over the id range: completed-bound jobs of three
 * names, failing jobs without retries (dead), jobs due in 1 to 48 h
 * (scheduled), of which some are then cancelled, and jobs of the paused
 * `reports` queue (available); args carry a userId. Then `drainDue`.
 * Returns what it made and how long each step took.
 */
export async function loadJobs(schema, n, log) {
  const t0 = performance.now();
  const producer = await context(schema, { queues: false, peer: false, store: { type: 'postgres', url: DATABASE_URL, schema, push: false } });
  let counts;
  try {
    await producer.pauseQueue(PAUSED_QUEUE);
    counts = await enqueueAll(producer, n, log);
    for (let r = 0; r < 200; r++) await producer.workflows.start('onboarding', { userId: r });
  } finally {
    await producer.close();
  }
  const enqueueSeconds = (performance.now() - t0) / 1000;
  log(`load: enqueued in ${enqueueSeconds.toFixed(1)} s; draining`);
  return { counts, workflowRuns: 200, enqueueSeconds: round(enqueueSeconds), ...(await drainDue(schema, log)) };
}

/**
 * Runs what is due in `schema` (all but the paused queue) on a worker node
 * with 50 slots a queue, then vacuums and analyses every table. Also finishes
 * the drain of a load that was interrupted (`--schema`).
 */
export async function drainDue(schema, log) {
  const t0 = performance.now();
  const worker = await context(schema, schedulerOptions(schema, 50));
  try {
    await waitFor(
      async () => {
        // The pool may be busy with acknowledgements past its connection timeout: ask again.
        const stats = await worker.queueStats().catch(() => null);
        return stats !== null && stats.filter((s) => s.queue !== PAUSED_QUEUE).every((s) => s.available === 0 && s.running === 0);
      },
      { everyMs: 1000, timeoutMs: 60 * 60_000, what: 'the load to drain' },
    );
  } finally {
    await worker.close();
  }
  const drainSeconds = (performance.now() - t0) / 1000;
  log(`load: drained in ${drainSeconds.toFixed(1)} s; vacuuming`);
  return { drainSeconds: round(drainSeconds), vacuumSeconds: await vacuum(schema) };
}

/** A Nest application context with the scheduler on `schema`; its SchedulerService, with `close()`. */
async function context(schema, options) {
  class LoaderModule {}
  Module({ imports: [SchedulerModule.forRoot(options)], providers: [Jobs, Onboarding] })(LoaderModule);
  const app = await NestFactory.createApplicationContext(LoaderModule, { logger: false });
  const scheduler = app.get(SchedulerService);
  return Object.assign(Object.create(scheduler), { close: () => app.close() });
}

/** The calls of `loadJobs`: each 1,000 ids hold the shares, a rare state getting a call of its own (250 jobs or more) whenever its share has added up to that. */
async function enqueueAll(scheduler, n, log) {
  const counts = { completed: 0, dead: 0, available: 0, scheduled: 0, cancelled: 0 };
  const scheduledIds = [];
  let i = 0;
  const argsOf = (size) => Array.from({ length: size }, () => ({ userId: (i++ * 7919) % 50_000, orderId: i, note: 'bench' }));
  const owed = { dead: 0, available: 0, scheduled: 0 };
  const share = { dead: SHARES.dead, available: SHARES.available, scheduled: SHARES.scheduled + SHARES.cancelled };
  const calls = chunked(n, 1000);
  for (let c = 0; c < calls.length; c++) {
    let left = calls[c];
    const { name, queue } = NAMES[c % 3];
    for (const state of Object.keys(owed)) {
      owed[state] += share[state] * calls[c];
      if (owed[state] < 250) continue;
      const k = Math.min(left, Math.round(owed[state]));
      owed[state] -= k;
      left -= k;
      if (state === 'dead') await scheduler.enqueueMany(FLAKY, argsOf(k), { maxRetries: 0 });
      else if (state === 'available') await scheduler.enqueueMany('render-report', argsOf(k));
      else scheduledIds.push(...(await scheduler.enqueueMany(name, argsOf(k), { queue, delay: `${1 + (c % 48)}h` })).map((j) => j.id));
      counts[state] += k;
    }
    if (left > 0) await scheduler.enqueueMany(name, argsOf(left), { queue });
    counts.completed += left;
    if (c % 100 === 99) log(`load: ${Math.min(n, (c + 1) * 1000)} of ${n} enqueued`);
  }
  counts.cancelled = Math.min(Math.round(n * SHARES.cancelled), scheduledIds.length);
  for (const id of scheduledIds.slice(0, counts.cancelled)) await scheduler.cancelJob(id, { reason: 'bench' });
  counts.scheduled -= counts.cancelled;
  return counts;
}

const round = (x) => Number(x.toFixed(1));

async function vacuum(schema) {
  const t0 = performance.now();
  const { rows } = await sql(
    `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
    [schema],
  );
  for (const { t } of rows) await sql(`VACUUM (ANALYZE) ${t}`);
  return round((performance.now() - t0) / 1000);
}
