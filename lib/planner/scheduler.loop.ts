import { Logger } from '@nestjs/common';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { FailureReport } from '../common/failure-report.js';

// Schedule ticks are due to the millisecond: ask the clock to be exact.
const PRECISE = { precise: true } as const;

/**
 * Work driven by the loop's single timer.
 * @internal
 */
export interface LoopTask {
  readonly name: string;
  /** When the task next wants to run (epoch ms), or `null` for "not now". */
  nextAt(now: number): number | null;
  run(now: number): Promise<void>;
  /** Its times are due to the millisecond (schedule ticks): the loop asks the clock for a precise timer. @default false */
  readonly precise?: boolean;
}

/**
 * One timer for the planner and every plugin: it sleeps until the earliest
 * `nextAt` of its tasks, runs the due ones one after another, and sleeps
 * again. 10,000 schedules cost one timer, not 10,000.
 * @internal
 */
export class SchedulerLoop {
  private readonly logger = new Logger('Scheduler');
  private readonly tasks: LoopTask[] = [];
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private running = false;
  private stopped = true;
  private current: Promise<void> = Promise.resolve();
  /** When the task under way started (epoch ms), `null` between tasks. */
  private taskSince: number | null = null;
  /** Each task's failures: an outage logs a line a minute, not a stack a tick. */
  private readonly reports = new Map<LoopTask, FailureReport>();

  /**
   * @param watch wraps each task's run (the store's reachability is learnt
   * from them: a task stuck behind an unreachable store is the first sign). @default none
   * @param fired told, as its timer fires, when it was due: one that fires
   * late tells that the process stood still meanwhile (see `StoreContact.stalled`). @default none
   */
  constructor(
    private readonly clock: Clock,
    private readonly watch: <T>(run: () => Promise<T>) => Promise<T> = (run) => run(),
    private readonly fired: (dueAt: number) => void = () => undefined,
  ) {}

  add(task: LoopTask): void {
    this.tasks.push(task);
    this.poke();
  }

  start(): void {
    this.stopped = false;
    this.poke();
  }

  /** Re-reads every task's `nextAt` (call after a change that may move it earlier). */
  poke(): void {
    if (this.stopped) return;
    // A run in progress re-arms when it ends.
    if (!this.running) this.arm();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clear();
    await this.current;
  }

  /** Settles once no run of the loop is under way (a run started meanwhile is waited for too). */
  async settled(): Promise<void> {
    for (let run = this.current; ; run = this.current) {
      await run;
      if (run === this.current && !this.running) return;
    }
  }

  /**
   * Since when (epoch ms) the loop has been held up, or `null` when it is
   * not: the start of a task still under way, or the time its timer was due
   * and has not fired. An idle loop with nothing due is never stalled.
   */
  stalledSince(): number | null {
    if (this.stopped) return null;
    if (this.taskSince !== null) return this.taskSince;
    return this.timer !== null && this.timerAt < this.clock.now() ? this.timerAt : null;
  }

  private arm(): void {
    const now = this.clock.now();
    let next = Infinity;
    let precise = false;
    for (const task of this.tasks) {
      const at = task.nextAt(now);
      if (at === null || at > next) continue;
      precise = (at < next ? false : precise) || task.precise === true;
      next = at;
    }
    if (next === this.timerAt && this.timer !== null) return;
    this.clear();
    if (next === Infinity) return;
    this.timerAt = next;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Infinity;
        // Before any task runs: the lifeline's pass of this very tick must know of a stall.
        this.fired(next);
        this.current = this.tick();
      },
      Math.max(0, next - now),
      precise ? PRECISE : undefined,
    );
  }

  private clear(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private reportOf(task: LoopTask): FailureReport {
    let report = this.reports.get(task);
    if (!report) this.reports.set(task, (report = new FailureReport(this.logger, task.name)));
    return report;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.running = true;
    try {
      for (const task of this.tasks) {
        if (this.stopped) return;
        const now = this.clock.now();
        const at = task.nextAt(now);
        if (at === null || at > now) continue;
        this.taskSince = now;
        try {
          await this.watch(() => task.run(now));
          this.reports.get(task)?.succeeded();
        } catch (error) {
          this.reportOf(task).failed(error);
        } finally {
          this.taskSince = null;
        }
      }
    } finally {
      this.running = false;
      if (!this.stopped) this.arm();
    }
  }
}

/**
 * A task that runs every `interval` ms while `enabled()` says so. A run
 * whose work answers a number of ms runs again that long after its start
 * instead: sooner with work left over (a backlog worked off in bounded
 * rounds, the loop's other tasks running between them), later after a run
 * that cost much for little (see the pruner).
 * @internal
 */
export class PeriodicTask implements LoopTask {
  private next: number | null = null;

  constructor(
    readonly name: string,
    private readonly interval: number,
    private readonly work: (now: number) => Promise<number | void>,
    private readonly enabled: () => boolean = () => true,
  ) {}

  nextAt(now: number): number | null {
    if (!this.enabled()) return null;
    if (this.next === null) this.next = now + this.interval;
    return this.next;
  }

  async run(now: number): Promise<void> {
    this.next = now + this.interval;
    const again = await this.work(now);
    if (typeof again === 'number') this.next = now + Math.max(0, again);
  }
}
