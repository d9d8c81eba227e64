import { Logger, type LoggerService } from '@nestjs/common';
import type { Job } from '../store/job.types.js';
import type { StallWatch } from './execution.types.js';
import { label } from './job.settler.js';
import type { RunningJob } from './running-jobs.js';

/** How many running jobs a stall's warning names. */
const NAMED = 5;

/**
 * Notices that this node's event loop stood still long enough to miss a
 * heartbeat, and says what it costs. Heartbeats, the leader's lease, claims
 * and timeouts all run on timers of the one event loop: a handler doing
 * synchronous CPU work (a big `JSON.parse`, a crypto loop, a sync zlib
 * call) stops them all. Past `lifeline.rescueAfter`, every job running here
 * (the handler's own included) is rescued and run again elsewhere while it
 * still runs here; its completion is then stale.
 *
 * Nothing a job: the heartbeat's timer tells it when it is armed, and an
 * attempt's end is checked against {@link overdueAt} with the clock its
 * acknowledgement reads anyway. A handler that returns while that timer is
 * overdue by a heartbeat held the loop (nothing else could run): it is
 * named. A stall no handler's return explains (one that went on awaiting
 * after its CPU work, a SIGSTOP, a suspended machine) is told when the
 * timer fires late, with the handlers that were running.
 * @internal
 */
export class LoopStalls implements StallWatch {
  /** An attempt that ends after this (epoch ms) held the event loop: checked by the executor, see {@link returned}. */
  overdueAt = Infinity;
  private due = Infinity;
  /** When the heartbeat's timer last fired (or was first armed): the loop ran then. */
  private ranAt: number | null = null;
  /** The due time of the stall already told (one warning a stall). */
  private told = -Infinity;

  constructor(
    private readonly heartbeat: number,
    private readonly rescueAfter: number,
    private readonly logger: Pick<LoggerService, 'warn'> = new Logger('Scheduler'),
  ) {}

  /** The heartbeat's timer is armed at `now`, due at `due` (`Infinity`: stopped). */
  armed(now: number, due: number): void {
    this.ranAt ??= now;
    this.due = due;
    this.overdueAt = due + this.heartbeat;
  }

  /**
   * An attempt's handler returned at `now`, after {@link overdueAt}: the
   * heartbeat due a beat before has not fired, so this handler, which ran
   * last, held the loop.
   */
  returned(job: Job<unknown>, source: string | undefined, now: number): void {
    if (this.told === this.due) return;
    this.told = this.due;
    const since = this.ranAt ?? this.due;
    this.logger.warn(
      `${source ?? label(job)} (job ${job.id}, queue ${job.queue}, attempt ${job.attempt}) held the event loop: no heartbeat of this node ` +
        `went out for ${seconds(now - since)} s. ${this.cost(now - since, 'this job and the others')} ${ADVICE}`,
    );
  }

  /** The heartbeat's timer fired at `now`: late by a beat, with no handler named for it, the loop stood still all the same. */
  fired(now: number, running: readonly RunningJob[]): void {
    const due = this.due;
    const since = this.ranAt ?? due;
    this.ranAt = now;
    this.overdueAt = Infinity;
    if (now - due < this.heartbeat || this.told === due) return;
    this.told = due;
    const handlers = running.filter((r) => r.holdsSlot && r.started < due);
    const named = handlers
      .slice(0, NAMED)
      .map((r) => `${label(r.job)} (job ${r.job.id}, queue ${r.job.queue})`)
      .join(', ');
    const more = handlers.length > NAMED ? ` and ${handlers.length - NAMED} more` : '';
    this.logger.warn(
      `the event loop stood still: no heartbeat of this node went out for ${seconds(now - since)} s` +
        (handlers.length > 0 ? `, while ${named}${more} ran here. ${this.cost(now - since, 'these jobs')} ${ADVICE}` : '.'),
    );
  }

  /** What a stall of `ms` costs the jobs running through it. */
  private cost(ms: number, jobs: string): string {
    const limit = `lifeline.rescueAfter (${seconds(this.rescueAfter)} s)`;
    return ms >= this.rescueAfter
      ? `That is past ${limit}: ${jobs} running here may have been rescued, and run again elsewhere while they still ran here (their completions here are then stale).`
      : `Past ${limit}, ${jobs} running here are rescued, and run again elsewhere while they still run here.`;
  }
}

const ADVICE = 'Move CPU-bound work to a worker thread or a child process, or raise lifeline.rescueAfter.';

/** Milliseconds as seconds, one decimal. */
function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
