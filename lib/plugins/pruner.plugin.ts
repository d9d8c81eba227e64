import { PeriodicTask, type LoopTask } from '../planner/scheduler.loop.js';
import type { JobStore } from '../store/job-store.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import type { SchedulerPlugin } from './scheduler.plugin.js';
import { timeStore, type StoreTimer } from '../telemetry/metrics/store-timer.js';

// Deleting in bounded batches keeps each round short; a backlog is worked
// off over the following rounds instead of in one long pass.
const PRUNE_BATCH = 10_000;
// A round with nothing left over waits this many times as long as it took
// (or the interval, if longer): finding that nothing more has expired can
// cost in proportion to the history kept (PostgreSQL walks its jobs table
// and sweeps every dead letter), and must not keep the store busy more than
// about 1 % of the time however large the history grows (up to the cap below).
const IDLE_PAUSE_FACTOR = 100;
// ...but never longer than this (unless the interval is): a round that was
// slow for a reason of its own (the process frozen, the database stalled)
// must not leave history unpruned for a day.
const IDLE_PAUSE_MAX = 3_600_000;

/**
 * What the pruner uses.
 * @internal
 */
export interface PrunerPorts {
  store: Pick<JobStore, 'prune' | 'pruneDead' | 'deleteRuns'>;
  events: Pick<SchedulerEvents, 'emit'>;
  /** Times its prunes of jobs. @default none */
  storeTimer?: StoreTimer | null;
  isLeader(): boolean;
  /** The scheduler's time (epoch ms), by which a round's length paces a backlog (at most the interval, so a clock moved meanwhile costs little). */
  now(): number;
  /**
   * A monotonic time in ms, by which a round's cost stretches the pause after
   * it (up to 100 times its length): not the scheduler's clock, which may be
   * set, synced or (in tests) moved while a round runs and make it look long.
   */
  elapsed(): number;
  /** How often it runs, in ms (sooner while it has a backlog, later after a slow round that left nothing over). */
  interval: number;
  /** Jobs, dead letters or runs deleted by one statement. @default 10000 */
  batch?: number;
  /** How long finished jobs (and workflow runs) are kept, in ms. */
  keepCompleted: number;
  /** Dead letters: kept this long (ms) and at most this many; `null`: no limit. */
  deadLetters: { maxAge: number | null; maxEntries: number | null };
}

/**
 * Pruner (leader only): deletes finished jobs (and finished workflow runs)
 * older than the retention settings, and dead letters past `deadLetters.maxAge`
 * or beyond `deadLetters.maxEntries` (`deadLetter:prune` when any went).
 *
 * A round deletes at most one batch of each. A round that filled a batch
 * left work behind (more finished a minute than a batch holds, or a
 * backlog after an outage or a shorter retention): the next round then
 * follows after a pause as long as this one took, not after the interval,
 * so that history is deleted as fast as it expires while the pruner keeps
 * at most about half of one store connection busy, and the loop's other
 * tasks (schedule ticks) run between its rounds. A round that left nothing
 * over waits for the interval, or 100 times as long as it took (at most an
 * hour) when that is longer: on a large history (millions of jobs and dead
 * letters kept) a round that finds little to delete still reads much, and
 * it then runs less often, history staying that much longer than its retention.
 * @internal
 */
export class PrunerPlugin implements SchedulerPlugin {
  readonly name = 'pruner';
  private readonly batch: number;

  constructor(private readonly ports: PrunerPorts) {
    this.batch = ports.batch ?? PRUNE_BATCH;
  }

  tasks(): LoopTask[] {
    const { store, keepCompleted } = this.ports;
    const { batch } = this;
    const prune = async (now: number): Promise<number | void> => {
      const started = this.ports.now();
      const since = this.ports.elapsed();
      const before = new Date(now - keepCompleted);
      const jobs = await timeStore(this.ports.storeTimer, 'prune', () => store.prune(['completed', 'discarded', 'cancelled'], before, batch));
      const dead = await this.pruneDead(now);
      const runs = await store.deleteRuns(before, batch);
      if (jobs < batch && !dead && runs < batch) {
        const stretched = Math.min(IDLE_PAUSE_MAX, IDLE_PAUSE_FACTOR * (this.ports.elapsed() - since));
        return Math.max(this.ports.interval, stretched);
      }
      return Math.min(this.ports.interval, 2 * Math.max(0, this.ports.now() - started));
    };
    return [new PeriodicTask('pruner', this.ports.interval, prune, () => this.ports.isLeader())];
  }

  /** Prunes dead letters; `true` when a statement filled its batch. */
  private async pruneDead(now: number): Promise<boolean> {
    const { store, events, deadLetters } = this.ports;
    const { batch } = this;
    let count = 0;
    let full = false;
    if (deadLetters.maxAge !== null) {
      const n = await store.pruneDead({ before: new Date(now - deadLetters.maxAge), keep: 0, limit: batch });
      count += n;
      full = n >= batch;
    }
    if (deadLetters.maxEntries !== null) {
      const n = await store.pruneDead({ before: null, keep: deadLetters.maxEntries, limit: batch });
      count += n;
      full ||= n >= batch;
    }
    if (count > 0) events.emit('deadLetter:prune', { count, by: 'pruner' });
    return full;
  }
}
