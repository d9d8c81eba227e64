/**
 * One cluster node for the multi-process tests: a real Nest app on the
 * PostgreSQL store (or the Redis or SQLite store), started as a child process and killed with real signals.
 * Its jobs write what they do into a ledger table, which the tests read.
 * Settings come from the NODE_CONFIG environment variable (JSON).
 */
import 'reflect-metadata';
import { Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import net from 'node:net';
import pg from 'pg';
import {
  BatchWorker,
  Scheduled,
  SchedulerModule,
  SchedulerService,
  Step,
  SystemClock,
  Workflow,
  type BatchContext,
  type BatchJob,
  type BatchPage,
  type DeadLetter,
  type DeadLetterHandler,
  type JobContext,
  type StepContext,
  type UniqueOption,
} from '../../../lib/index.js';

interface NodeConfig {
  /** The ledger's PostgreSQL (and the store's, unless `redis`, `sqlite` or `storeUrl` is given). */
  url: string;
  schema: string;
  /** The store's PostgreSQL when it is reached another way than the ledger's (through a proxy that cuts it). */
  storeUrl?: string;
  /** Keep the jobs in Redis instead: this server, under this key prefix. */
  redis?: { url: string; keyPrefix: string };
  /** Keep the jobs in this SQLite file instead (shared by the nodes of the test). */
  sqlite?: { path: string; busyTimeout?: number };
  name: string;
  /** 0: no queues (this node runs no jobs). */
  concurrency: number;
  /** The `default` queue's `prefetch` (jobs claimed ahead of free slots). @default the scheduler's */
  prefetch?: number;
  leaseTtl: number;
  rescueAfter: number;
  /** Milliseconds each `work` job takes. */
  workMs: number;
  /** Each `work` job on this node then waits for an `open` row in the ledger before it finishes. */
  gated?: boolean;
  /** Include the every-second cron. */
  cron: boolean;
  shutdownGracePeriod: number;
  /** Workflow runs this node starts once it is up. */
  startRuns?: number;
  /** The workflow those runs are of. @default 'ledgered' */
  startWorkflow?: 'ledgered' | 'fanout' | 'compensated';
  /** Cancels (with rollback) each run named by a `cancel` row of the ledger, then writes a `cancelled` row. */
  canceller?: boolean;
  /** This node's clock runs this many ms ahead of real time (negative: behind). */
  clockOffsetMs?: number;
  /**
   * `afterMs` after it is ready, this node's wall clock steps by `byMs`
   * (negative: back), as NTP correcting it or a resumed VM would: `Date.now()`
   * jumps, Node's timers (monotonic) do not.
   */
  clockStep?: { afterMs: number; byMs: number };
  /** Writes an `alert` row for every dead letter `onDeadLetter` hands it. */
  deadLetterAlerts?: boolean;
  /**
   * Once up, for each round: wait for a ledger row of kind `go`, then make
   * `count` concurrent `enqueue('work', args, { unique })` calls, each
   * writing an `enqueued` or `duplicate` row (job_id: the job returned).
   */
  enqueueRounds?: { go: string; args: { n: number }; unique: UniqueOption; count: number }[];
  /** `resetTimeout` of the `api` circuit breaker (3 failures open it, `breakerProbes` probes close it). @default 60000 */
  breakerResetMs?: number;
  /** `successThreshold` of the `api` circuit breaker: the probes a half-open breaker lets run. @default 1 */
  breakerProbes?: number;
  /** Milliseconds a `flaky` job that succeeds takes before it writes its `flaky-done` row. @default 0 */
  flakyMs?: number;
  /** `rateLimits.jobs.limited` of this node: `limit` jobs per `per` ms (with `by: 'queues'`, `rateLimits.queues.default`). */
  limited?: { limit: number; per: number; by?: 'jobs' | 'queues' };
  /** How long a `hold-lock` job keeps the SQLite file's write lock, in ms of wall time (see `holdLock`). @default 1000 */
  holdMs?: number;
  /** How long a `spin` job's first attempt on this node blocks the event loop, in ms. @default 0 */
  spinMs?: number;
  /** Register the `warmup` `@reboot` job (a `warmup` row; on a `gated` node it then waits for an `open` row). */
  reboot?: boolean;
  /** Register the `news` job (a `news` row): a node without it is a node of an earlier build. */
  news?: boolean;
}

/** The system clock, set wrong as a node without NTP would have it. */
class SkewedClock extends SystemClock {
  override now(): number {
    return super.now() + (config.clockOffsetMs ?? 0);
  }
}

const config = JSON.parse(process.env.NODE_CONFIG ?? '{}') as NodeConfig;
const ledger = new pg.Pool({ connectionString: config.url, max: 4 });
ledger.on('error', () => {});
const table = `"${config.schema}".ledger`;

/**
 * `args.n` numbered items in pages of 10, two at a time: each recorded in the
 * ledger (kind `item`, `job_id` the item, stamped by the database's clock),
 * then `workMs` of work. On a `gated` node, item 45 waits for an `open`
 * row (as `work` does): the batch stalls in its fifth page.
 */
@BatchWorker({ name: 'ledger-batch', batchSize: 10, concurrency: 2 })
class LedgerBatch implements BatchJob<number, number, { n: number }> {
  fetchItems(cursor: number | undefined, ctx: BatchContext<{ n: number }>): BatchPage<number, number> {
    const from = cursor ?? 0;
    const to = Math.min(from + ctx.batchSize, ctx.args.n);
    const items = Array.from({ length: to - from }, (_, i) => from + i);
    return to >= ctx.args.n ? { items, done: true, cursor: to } : { items, cursor: to };
  }

  async processItem(item: number, ctx: BatchContext<{ n: number }>): Promise<void> {
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt, at) VALUES ('item', $1, $2, $3, clock_timestamp())`, [
      String(item),
      config.name,
      ctx.attempt,
    ]);
    if (config.workMs > 0) await new Promise((resolve) => setTimeout(resolve, config.workMs));
    while (config.gated && item === 45 && (await ledger.query(`SELECT 1 FROM ${table} WHERE kind = 'open'`)).rowCount === 0) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

@Injectable()
class ClusterJobs implements OnApplicationShutdown {
  @Scheduled({ cron: '* * * * * *', name: 'tick' })
  async tick(ctx: JobContext) {
    if (!config.cron) return;
    await ledger.query(`INSERT INTO ${table} (kind, job_id, tick, node, attempt) VALUES ('tick', $1, $2, $3, $4)`, [
      ctx.id,
      ctx.scheduledAt,
      config.name,
      ctx.attempt,
    ]);
  }

  @Scheduled({ name: 'work' })
  async work(ctx: JobContext<{ n: number }>) {
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ('start', $1, $2, $3)`, [ctx.id, config.name, ctx.attempt]);
    if (config.workMs > 0) await new Promise((resolve) => setTimeout(resolve, config.workMs));
    while (config.gated && (await ledger.query(`SELECT 1 FROM ${table} WHERE kind = 'open'`)).rowCount === 0) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ('finish', $1, $2, $3)`, [ctx.id, config.name, ctx.attempt]);
    return { n: ctx.args.n };
  }

  /** Guarded by the `api` circuit breaker: fails until the ledger holds a `healthy` row; then takes `flakyMs` and writes `flaky-done`. */
  @Scheduled({ name: 'flaky', circuitBreaker: 'api', backoff: 0 })
  async flaky(ctx: JobContext) {
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ('flaky', $1, $2, $3)`, [ctx.id, config.name, ctx.attempt]);
    if ((await ledger.query(`SELECT 1 FROM ${table} WHERE kind = 'healthy'`)).rowCount === 0) throw new Error('the API is down');
    if (config.flakyMs) await new Promise((resolve) => setTimeout(resolve, config.flakyMs));
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ('flaky-done', $1, $2, $3)`, [ctx.id, config.name, ctx.attempt]);
  }

  /** Records its start by the database's clock (`now()` of the insert), for the rate-limit test. */
  @Scheduled({ name: 'limited' })
  async limited(ctx: JobContext) {
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt, at) VALUES ('limited', $1, $2, $3, now())`, [ctx.id, config.name, ctx.attempt]);
  }

  /** Kills its own process, as a handler that crashes the node (out of memory, a native fault) does. */
  @Scheduled({ name: 'crash' })
  async crash(ctx: JobContext) {
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ('crash', $1, $2, $3)`, [ctx.id, config.name, ctx.attempt]);
    // A while first (as memory runs out): the node claims more work ahead meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    process.kill(process.pid, 'SIGKILL');
  }

  /**
   * Takes the SQLite file's write lock (`BEGIN IMMEDIATE` on a connection of
   * its own), writes into `jobs` (every `work` job marked completed, spilled
   * to the WAL uncommitted), prints `holding <node>`, then spins, with the
   * event loop blocked, until `holdMs` of wall time have passed, and rolls
   * back. Synchronous throughout: a SIGSTOP after `holding` freezes the
   * process with the lock held, a SIGKILL kills it mid-transaction.
   */
  @Scheduled({ name: 'hold-lock' })
  async holdLock() {
    const { default: Driver } = await import('better-sqlite3');
    const db = new Driver(config.sqlite!.path, { timeout: 30_000 });
    try {
      db.pragma('cache_size = 1');
      db.exec('BEGIN IMMEDIATE');
      db.prepare(`UPDATE jobs SET state = 'completed', result = '"held"' WHERE name = 'work'`).run();
      process.stdout.write(`holding ${config.name}\n`);
      const until = Date.now() + (config.holdMs ?? 1_000);
      while (Date.now() < until);
      db.exec('ROLLBACK');
      process.stdout.write(`released ${config.name}\n`);
    } finally {
      db.close();
    }
  }

  /**
   * A CPU-bound handler: writes `spin-start`, then on its first attempt
   * blocks the event loop for `spinMs` (a synchronous busy loop, as a big
   * `JSON.parse` or a sync zlib call would), then returns at once, without
   * waiting for its `spin-end` row: nothing else of the node runs between
   * the end of the loop and the handler's return.
   */
  @Scheduled({ name: 'spin' })
  async spin(ctx: JobContext) {
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ('spin-start', $1, $2, $3)`, [ctx.id, config.name, ctx.attempt]);
    if (ctx.attempt === 1 && config.spinMs) {
      process.stdout.write(`spinning ${config.name}\n`);
      const until = Date.now() + config.spinMs;
      while (Date.now() < until);
    }
    void ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ('spin-end', $1, $2, $3)`, [ctx.id, config.name, ctx.attempt]).catch(() => {});
    return { node: config.name, attempt: ctx.attempt };
  }

  /** Always fails: inserted with one attempt, it is a dead letter at once. */
  @Scheduled({ name: 'fail' })
  async fail(ctx: JobContext) {
    throw new Error(`fail ${ctx.id}`);
  }

  async onApplicationShutdown() {
    await ledger.end();
  }
}

/** The `onDeadLetter` provider: one `alert` row per call. */
@Injectable()
class LedgerAlerts implements DeadLetterHandler {
  async handle(entry: DeadLetter<unknown>) {
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ('alert', $1, $2, $3)`, [entry.id, config.name, entry.attempts]);
  }
}

/** A workflow whose every step writes its effect to the ledger (job_id = run:step). */
@Workflow({ name: 'ledgered' })
class Ledgered {
  private async effect(ctx: StepContext, kind: string) {
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ($1, $2, $3, $4)`, [
      kind,
      `${ctx.runId}:${ctx.step}`,
      config.name,
      ctx.attempt,
    ]);
  }
  @Step()
  async a(ctx: StepContext) {
    await this.effect(ctx, 'effect');
    return { a: 1 };
  }
  @Step({ after: 'a', timeout: '5m' })
  async slow(ctx: StepContext) {
    await this.effect(ctx, 'slow-start');
    if (config.workMs > 0) await new Promise((resolve) => setTimeout(resolve, config.workMs));
    await this.effect(ctx, 'effect');
  }
  @Step({ after: 'a' })
  async b(ctx: StepContext) {
    await this.effect(ctx, 'effect');
  }
  @Step({ after: ['slow', 'b'] })
  async c(ctx: StepContext) {
    await this.effect(ctx, 'effect');
    return { done: true };
  }
}

/** The parallel group of `fanout`: 16 steps, all after `seed`, all before `join`. */
const FANOUT = Array.from({ length: 16 }, (_, i) => `p${i}`);

/**
 * A wide parallel group: `seed`, then the {@link FANOUT} steps at once (each
 * `workMs` of work, then on a `gated` node a wait for an `open` row), then
 * `join`. Each parallel step returns `{ [step]: … }`, so every output has a
 * key of its own in the run's context; `join` returns how many it saw.
 * Ledger rows: `fan-seed`, `fan-start` and `fan-effect` (each parallel step),
 * `fan-join` (job_id = run:step).
 */
@Workflow({ name: 'fanout' })
class Fanout {
  @Step()
  async seed(ctx: StepContext) {
    await record(ctx, 'fan-seed');
    return { seed: config.name };
  }

  @Step({ after: FANOUT })
  async join(ctx: StepContext) {
    await record(ctx, 'fan-join');
    return { joined: FANOUT.filter((name) => ctx.context[name] !== undefined).length };
  }

  async branch(ctx: StepContext) {
    await record(ctx, 'fan-start');
    if (config.workMs > 0) await new Promise((resolve) => setTimeout(resolve, config.workMs));
    while (config.gated && (await ledger.query(`SELECT 1 FROM ${table} WHERE kind = 'open'`)).rowCount === 0) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await record(ctx, 'fan-effect');
    return { [ctx.step]: { node: config.name, attempt: ctx.attempt } };
  }
}
// The parallel steps, as if each were written out with @Step({ after: 'seed' }).
for (const name of FANOUT) {
  Object.defineProperty(Fanout.prototype, name, {
    value: function (this: Fanout, ctx: StepContext) {
      return this.branch(ctx);
    },
    writable: true,
    configurable: true,
  });
  Step({ after: 'seed' })(Fanout.prototype, name, Object.getOwnPropertyDescriptor(Fanout.prototype, name)!);
}

/**
 * Two steps, each with a rollback: `first`, then `late`, which takes
 * `workMs` on one timer and no retry. One timer, armed before its
 * `comp-start` row is written, so that a node stopped (SIGSTOP) once that
 * row is seen and continued when the timer is due returns from the step
 * before it can act on a cancel notice read meanwhile (a notice is acted on
 * after a read of the job, on PostgreSQL and Redis a round trip). Ledger
 * rows: `comp-effect` (first), `comp-start` (late), `comp-undo` (job_id = run:step).
 */
@Workflow({ name: 'compensated' })
class Compensated {
  @Step({ rollback: 'undo' })
  async first(ctx: StepContext) {
    await record(ctx, 'comp-effect');
    return { first: true };
  }

  @Step({ after: 'first', rollback: 'undo', maxRetries: 0 })
  async late(ctx: StepContext) {
    // The timer runs before the row is written: a test that stops the node once it sees the row stops it with the timer running.
    const worked = new Promise((resolve) => setTimeout(resolve, config.workMs));
    await record(ctx, 'comp-start');
    await worked;
    return { late: true };
  }

  async undo(ctx: StepContext) {
    await record(ctx, 'comp-undo');
  }
}

/** A ledger row of a workflow step (job_id = run:step). */
async function record(ctx: StepContext, kind: string): Promise<void> {
  await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ($1, $2, $3, $4)`, [
    kind,
    `${ctx.runId}:${ctx.step}`,
    config.name,
    ctx.attempt,
  ]);
}

/** This node's `@reboot` job (see `reboot` in the config): it is pinned to the node that started. */
@Injectable()
class RebootWarmup {
  @Scheduled({ cron: '@reboot', name: 'warmup' })
  async warmup(ctx: JobContext) {
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ('warmup', $1, $2, $3)`, [ctx.id, config.name, ctx.attempt]);
    while (config.gated && (await ledger.query(`SELECT 1 FROM ${table} WHERE kind = 'open'`)).rowCount === 0) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A job only some nodes have (see `news` in the config), as a rolling deploy that adds it has. */
@Injectable()
class NewsJobs {
  @Scheduled({ name: 'news', maxRetries: 0 })
  async news(ctx: JobContext) {
    await ledger.query(`INSERT INTO ${table} (kind, job_id, node, attempt) VALUES ('news', $1, $2, $3)`, [ctx.id, config.name, ctx.attempt]);
  }
}

@Module({
  imports: [
    SchedulerModule.forRoot({
      store: config.redis
        ? { type: 'redis', ...config.redis }
        : config.sqlite
          ? { type: 'sqlite', ...config.sqlite }
          : { type: 'postgres', url: config.storeUrl ?? config.url, schema: config.schema },
      nodeName: config.name,
      queues:
        config.concurrency === 0
          ? false
          : { default: config.prefetch === undefined ? config.concurrency : { concurrency: config.concurrency, prefetch: config.prefetch } },
      peer: { leaseTtl: config.leaseTtl },
      pollInterval: 200,
      lifeline: { heartbeat: Math.max(200, Math.floor(config.rescueAfter / 4)), rescueAfter: config.rescueAfter, interval: 500 },
      shutdownGracePeriod: config.shutdownGracePeriod,
      ...(config.clockOffsetMs ? { clock: new SkewedClock() } : {}),
      ...(config.deadLetterAlerts ? { deadLetters: { onDeadLetter: LedgerAlerts } } : {}),
      circuitBreakers: { api: { failureThreshold: 3, successThreshold: config.breakerProbes ?? 1, resetTimeout: config.breakerResetMs ?? 60_000 } },
      ...(config.limited
        ? {
            rateLimits: {
              [config.limited.by ?? 'jobs']: {
                [config.limited.by === 'queues' ? 'default' : 'limited']: { limit: config.limited.limit, per: config.limited.per },
              },
            },
          }
        : {}),
    }),
  ],
  providers: [
    ClusterJobs,
    Ledgered,
    Fanout,
    Compensated,
    LedgerAlerts,
    LedgerBatch,
    ...(config.reboot ? [RebootWarmup] : []),
    ...(config.news ? [NewsJobs] : []),
  ],
})
class NodeModule {}

async function main() {
  const app = await NestFactory.createApplicationContext(NodeModule, { logger: ['error', 'warn'] });
  // Not enableShutdownHooks(): Nest re-raises the signal after closing, which
  // would hide a leaked handle. Here the process must exit by itself.
  process.once('SIGTERM', () => {
    process.stdout.write(`closing ${config.name}\n`);
    const began = Date.now();
    // What keeps a node that does not exit alive, in the failing test's message (its stderr): the
    // close not done, or done with handles left open. Unref'd: these timers hold nothing open.
    const report = (what: string) => () =>
      process.stderr.write(
        `${config.name}: ${what} ${Date.now() - began} ms after SIGTERM; open: ${process.getActiveResourcesInfo().join(', ')}; sockets: ${openSockets()}\n`,
      );
    setTimeout(report('close not done'), 55_000).unref();
    void app.close().then(() => {
      process.stdout.write(`closed ${config.name} ${Date.now() - began}\n`);
      setTimeout(report('closed, still running'), 5_000).unref();
    });
  });
  const scheduler = app.get(SchedulerService);
  // Leadership may already have been won during bootstrap, before this listener.
  scheduler.on('peer:election', () => process.stdout.write(`leader ${config.name}\n`));
  if (scheduler.isLeader()) process.stdout.write(`leader ${config.name}\n`);
  for (let i = 0; i < (config.startRuns ?? 0); i++) {
    process.stdout.write(`run ${await scheduler.workflows.start(config.startWorkflow ?? 'ledgered', { by: config.name })}\n`);
  }
  // Ends quietly when the ledger closes (at shutdown).
  if (config.canceller) cancelOnRequest(scheduler).catch(() => {});
  // The ledger's connections opened before any job: a job's first insert then does not wait for one.
  if (config.limited) await Promise.all(Array.from({ length: 4 }, () => ledger.query('SELECT pg_sleep(0.05)')));
  process.stdout.write(`ready ${config.name}\n`);
  if (config.clockStep) stepClock(config.clockStep);
  for (const round of config.enqueueRounds ?? []) {
    while ((await ledger.query(`SELECT 1 FROM ${table} WHERE kind = $1`, [round.go])).rowCount === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const calls = Array.from({ length: round.count }, async () => {
      const job = await scheduler.enqueue('work', round.args, { unique: round.unique });
      await ledger.query(`INSERT INTO ${table} (kind, job_id, node) VALUES ($1, $2, $3)`, [job.duplicate ? 'duplicate' : 'enqueued', job.id, config.name]);
    });
    await Promise.all(calls);
    process.stdout.write(`enqueued ${round.go} ${config.name}\n`);
  }
}

/** Steps what `Date.now()` answers (the scheduler's SystemClock reads it), once, `afterMs` from now. */
function stepClock({ afterMs, byMs }: { afterMs: number; byMs: number }): void {
  setTimeout(() => {
    const wall = Date.now.bind(Date);
    Date.now = () => wall() + byMs;
    process.stdout.write(`stepped ${config.name}\n`);
  }, afterMs);
}

/** Polls the ledger for `cancel` rows: cancels each run (rollback: true) once, and writes `cancelled` (or `cancel-failed`). */
async function cancelOnRequest(scheduler: SchedulerService): Promise<void> {
  const done = new Set<string>();
  for (;;) {
    for (const { job_id: runId } of (await ledger.query<{ job_id: string }>(`SELECT job_id FROM ${table} WHERE kind = 'cancel'`)).rows) {
      if (done.has(runId)) continue;
      done.add(runId);
      const outcome = await scheduler.workflows.cancel(runId, { rollback: true }).then(
        () => 'cancelled',
        () => 'cancel-failed',
      );
      await ledger.query(`INSERT INTO ${table} (kind, job_id, node) VALUES ($1, $2, $3)`, [outcome, runId, config.name]);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

main().catch((error) => {
  new Logger('ClusterNode').error(error);
  process.exit(1);
});

/** The TCP sockets still open, by their ports (the store's proxy or the database's, and the ledger's), to name what keeps a node alive. */
function openSockets(): string {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const sockets = handles.filter((h): h is net.Socket => h instanceof net.Socket && h.remotePort !== undefined);
  return sockets.map((s) => `${s.localPort}->${s.remotePort} (${s.readyState}, ${s.bytesWritten} B written, ${s.bytesRead} B read)`).join('; ') || 'none';
}
