import type { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../common/json.js';
import type { TesterPorts } from '../composition/scheduler.ports.js';
import { SchedulerHost } from '../scheduler.host.js';
import { buildJobs } from '../queue/job.builder.js';
import type { Job } from '../store/job.types.js';
import { FakeClock, flushPromises } from './fake.clock.js';
import { shown } from '../common/shown.js';
import { InvalidArgumentError } from '../scheduler.errors.js';

/**
 * One finished attempt, as the tester saw it.
 * @publicApi
 */
export interface JobRun {
  job: Job<unknown>;
  outcome: 'completed' | 'retry' | 'dead' | 'discarded' | 'halted' | 'cancelled';
  result?: unknown;
  error?: unknown;
  duration: number;
}

/** Rounds `drainQueue` waits at most for due timers to stop re-arming, or for buffered jobs to start (a guard, not a pace). */
const MAX_SETTLE_ROUNDS = 100;

/**
 * Test helpers over a running app: drain queues, run one job at once, and
 * assert what ran. Records every attempt that finishes after it is created.
 * @publicApi
 */
export class SchedulerTester {
  private readonly scheduler: TesterPorts;
  private readonly log: JobRun[] = [];
  private undrained: JobRun[] = [];

  constructor(app: INestApplicationContext) {
    this.scheduler = app.get(SchedulerHost, { strict: false }).ports.tester;
    const { events } = this.scheduler;
    const record = (run: JobRun) => {
      this.log.push(run);
      this.undrained.push(run);
    };
    events.on('job:stop', (e) => record({ job: e.job, outcome: 'completed', result: e.result, duration: e.duration }));
    events.on('job:exception', (e) => record({ job: e.job, outcome: e.outcome === 'dead' ? 'dead' : 'retry', error: e.error, duration: e.duration }));
    events.on('job:discard', (e) => record({ job: e.job, outcome: e.outcome === 'halted' ? 'halted' : 'discarded', error: e.reason, duration: e.duration }));
    events.on('job:cancel', (e) => {
      if (e.job.startedAt) record({ job: e.job, outcome: 'cancelled', duration: e.duration });
    });
  }

  /**
   * Runs every due job of `queue` (all queues when omitted) until none is
   * due, waiting for jobs that queue runners started too. Resolves to the
   * attempts that finished since the previous drain (or since the tester
   * was created). Jobs due later are not run: advance the clock first. Rate
   * limits hold as for the queue runners: a job whose bucket has no token
   * left waits, like a job due later, until the clock brings one. On a
   * shared store it first waits for the round trips under way (the
   * planner's inserts, the runners' claims) and fires the timers they left
   * due, so one drain after `clock.advance` runs the ticks of that time.
   */
  async drainQueue(queue?: string): Promise<JobRun[]> {
    const s = this.scheduler;
    let stalled = 0;
    for (;;) {
      await this.settle(queue);
      await Promise.allSettled(s.running.all(queue).map((r) => r.done));
      const queues = queue !== undefined ? [queue] : (await s.store.queueCounts(new Date(s.clock.now()))).filter((c) => c.available > 0).map((c) => c.queue);
      let ran = 0;
      for (const name of queues) {
        const request = { queue: name, limit: 100, node: s.node, now: new Date(s.clock.now()) };
        // Through the buckets, as the queue's runner claims: a job a limit holds back waits for its token, like a job due later.
        const limits = s.rateLimits(name);
        const jobs = limits && s.store.rateLimits ? (await s.store.rateLimits.claim(request, limits)).jobs : await s.store.claim(request);
        for (const job of jobs) await s.execute(job);
        ran += jobs.length;
      }
      if (ran > 0 || s.running.all(queue).length > 0) stalled = 0;
      // Jobs a runner claimed ahead start as its slots free: wait for them (a bounded number of rounds, should they not start).
      else if (s.buffered(queue) === 0 || ++stalled > MAX_SETTLE_ROUNDS) break;
    }
    const mine = this.undrained.filter((r) => queue === undefined || r.job.queue === queue);
    this.undrained = this.undrained.filter((r) => !mine.includes(r));
    return mine;
  }

  /**
   * Fires the timers already due (a planner that must catch up) and waits for
   * the work they start: the planner's inserts and the runners' claims, which
   * on a shared store are round trips that settle after `clock.advance`
   * returned, and may arm timers due at once (a loop that was busy during
   * the advance re-arms for the tick it missed). Again until none is due.
   */
  private async settle(queue: string | undefined): Promise<void> {
    const s = this.scheduler;
    for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
      if (s.clock instanceof FakeClock) await s.clock.advance(0);
      await flushPromises();
      await s.settled(queue);
      if (!(s.clock instanceof FakeClock) || s.clock.dueTimers === 0) return;
    }
  }

  /**
   * Resolves once this node leads and its planner has read every schedule's
   * progress, so that the ticks of the time a test then advances are planned.
   * The memory store's node leads at once; on a shared store the node takes
   * the lease and reads the schedules in the background, and a clock moved
   * before that would let the planner start after the ticks it skipped.
   * Rejects after `timeoutMs` of real time (a `peer: false` node never leads).
   * @param timeoutMs @default 10000
   */
  async leading(timeoutMs = 10_000): Promise<void> {
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))
      throw new InvalidArgumentError('timeoutMs', `must be a number of 0 or more, got ${shown(timeoutMs)}`);
    const until = Date.now() + timeoutMs;
    while (!this.scheduler.planning()) {
      if (Date.now() > until) throw new Error(`this node did not lead within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Runs one job of a registered handler now, through its middleware, even
   * when its queue is paused or the scheduler is disabled; resolves to its outcome.
   */
  async runJob(name: string, args?: JsonValue): Promise<JobRun> {
    const s = this.scheduler;
    const pin = `tester-${randomUUID()}`;
    // Pinned to a node name no runner has, so that only this call runs it.
    const [newJob] = buildJobs(s.jobs, name, [args ?? {}], {});
    const [inserted] = await s.store.insert([{ ...newJob!, pinnedNode: pin }]);
    const [job] = await s.store.claim({ queue: inserted!.job.queue, limit: 1, node: pin, now: new Date(s.clock.now()), ids: [inserted!.job.id] });
    if (!job) throw new Error(`runJob(${name}): the job could not be claimed`);
    const before = this.log.length;
    await s.execute(job);
    const run = this.log.slice(before).find((r) => r.job.id === job.id);
    this.undrained = this.undrained.filter((r) => r !== run);
    if (!run) throw new Error(`runJob(${name}): the attempt ended without an outcome`);
    return run;
  }

  /** Finished attempts, optionally of one job or schedule name. */
  runs(name?: string): JobRun[] {
    return name === undefined ? [...this.log] : this.log.filter((r) => r.job.name === name || r.job.schedule === name);
  }

  /**
   * Throws unless `name` completed (exactly `times` times, when given).
   * @throws InvalidArgumentError for a `times` that is not an integer of 0 or more.
   */
  assertCompleted(name: string, times?: number): void {
    if (times !== undefined && !(Number.isInteger(times) && times >= 0))
      throw new InvalidArgumentError('times', `must be an integer of 0 or more, got ${shown(times)}`);
    const count = this.runs(name).filter((r) => r.outcome === 'completed').length;
    if (times === undefined ? count === 0 : count !== times) {
      throw new Error(`expected ${String(name)} to complete ${times === undefined ? 'at least once' : `${times} time(s)`}, it completed ${count} time(s)`);
    }
  }

  /** Throws if `name` ran at all. */
  assertNotRun(name: string): void {
    const count = this.runs(name).length;
    if (count > 0) throw new Error(`expected ${String(name)} not to run, it ran ${count} time(s)`);
  }
}
