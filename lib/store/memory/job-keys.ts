import type { NewJob } from '../job.types.js';
import { holderBit, keepsCompleted, uniqueMask } from '../unique-states.js';
import type { JobRecord } from './claim-index.js';
import { isFinished, type FinishedJob, type JobEntry } from './finished-job.js';
import { RunningRecords } from './running-records.js';

/** The job holding a unique key, with its own `uniqueStates` (mask), and when it took the key (ms). */
interface UniqueHold {
  entry: JobEntry;
  mask: number;
  since: number;
}

/**
 * Which key an insert collided with, and the job holding it.
 * @internal
 */
export interface KeyConflict {
  rec: JobEntry;
  key: 'tick' | 'unique' | 'serial';
}

/**
 * The tick, unique and serial keys held by the memory store's jobs, and its
 * running jobs. The store reports every state change through
 * {@link enter} / {@link leave}, and a job's change of form through
 * {@link finish} / {@link revive}.
 * @internal
 */
export class JobKeys {
  /** Held for as long as the job exists. */
  private readonly tick = new Map<string, JobEntry>();
  /**
   * Taken at insert (or resurrect); held until the job finishes, or past its
   * completion when its states include `completed`; taken over by an insert
   * that the holder no longer blocks.
   */
  private readonly unique = new Map<string, UniqueHold>();
  /** Available jobs by serial key (more than one only after a retry or resurrect). */
  private readonly waitingSerial = new Map<string, Set<JobRecord>>();
  private readonly runningSerial = new Map<string, JobRecord>();
  readonly running = new RunningRecords();

  /** The job an insert at `now` (ms) would collide with, checking tick, unique then serial keys. */
  conflictOf(input: NewJob, now: number): KeyConflict | null {
    const tick = input.tickKey == null ? undefined : this.tick.get(input.tickKey);
    if (tick) return { rec: tick, key: 'tick' };
    const unique = input.uniqueKey == null ? undefined : this.uniqueHolder(input.uniqueKey, input, now);
    if (unique) return { rec: unique, key: 'unique' };
    const serial = input.serialKey == null ? undefined : this.waitingSerial.get(input.serialKey)?.values().next().value;
    return serial ? { rec: serial, key: 'serial' } : null;
  }

  /**
   * The job holding a unique key that blocks a job with `spec`'s states and
   * period at `now` (ms): one in those states, inserted less than the period ago.
   */
  uniqueHolder(key: string, spec: Pick<NewJob, 'uniqueStates' | 'uniquePeriod'>, now: number): JobEntry | undefined {
    const hold = this.unique.get(key);
    if (!hold) return undefined;
    if (spec.uniquePeriod != null && hold.since + spec.uniquePeriod <= now) return undefined;
    const { entry } = hold;
    const bit = isFinished(entry) ? holderBit(entry.state, 0, now) : holderBit(entry.job.state, entry.job.runAt.getTime(), now);
    return (bit & uniqueMask(spec.uniqueStates)) !== 0 ? entry : undefined;
  }

  /** `rec` takes a unique key at `now` (ms), over any holder (the caller checked that none blocks it). */
  takeUnique(key: string, rec: JobRecord, states: NewJob['uniqueStates'], now: number): void {
    this.unique.set(key, { entry: rec, mask: uniqueMask(states), since: now });
  }

  /** Whether a job with this serial key is running. */
  serialRunning(key: string): boolean {
    return this.runningSerial.has(key);
  }

  /** Records a new job (already in its first state), inserted at `now` (ms). */
  add(rec: JobRecord, input: NewJob, now: number): void {
    if (rec.job.tickKey !== null) this.tick.set(rec.job.tickKey, rec);
    if (rec.job.uniqueKey !== null) this.takeUnique(rec.job.uniqueKey, rec, input.uniqueStates, now);
    this.enter(rec);
  }

  /** Frees the tick and unique keys of a deleted job (after {@link leave}). */
  forget(entry: JobEntry): void {
    const { tickKey, uniqueKey } = isFinished(entry) ? entry.extras : entry.job;
    if (tickKey !== null && this.tick.get(tickKey) === entry) this.tick.delete(tickKey);
    if (uniqueKey !== null && this.unique.get(uniqueKey)?.entry === entry) this.unique.delete(uniqueKey);
  }

  /**
   * A job reached a final state (after {@link leave}) and is kept as
   * `finished` from now on: its unique key is free, unless it completed and
   * its states include `completed`.
   */
  finish(rec: JobRecord, finished: FinishedJob): void {
    const { tickKey, uniqueKey } = rec.job;
    if (tickKey !== null && this.tick.get(tickKey) === rec) this.tick.set(tickKey, finished);
    const hold = uniqueKey === null ? undefined : this.unique.get(uniqueKey);
    if (hold?.entry !== rec) return;
    if (finished.state === 'completed' && keepsCompleted(hold.mask)) hold.entry = finished;
    else this.unique.delete(uniqueKey!);
  }

  /** A finished job is live again as `rec` (before {@link enter}). */
  revive(finished: FinishedJob, rec: JobRecord): void {
    const { tickKey } = finished.extras;
    if (tickKey !== null && this.tick.get(tickKey) === finished) this.tick.set(tickKey, rec);
  }

  /** Called before the job leaves its state; returns the serial key it stopped running, if any. */
  leave(rec: JobRecord): string | null {
    const { job } = rec;
    if (job.state === 'available' && job.serialKey !== null) {
      const set = this.waitingSerial.get(job.serialKey);
      if (set?.delete(rec) && set.size === 0) this.waitingSerial.delete(job.serialKey);
    } else if (job.state === 'running') {
      this.running.delete(rec);
      if (job.serialKey !== null && this.runningSerial.get(job.serialKey) === rec) {
        this.runningSerial.delete(job.serialKey);
        return job.serialKey;
      }
    }
    return null;
  }

  /** Called once the job is in its new state. */
  enter(rec: JobRecord): void {
    const { job } = rec;
    if (job.state === 'available' && job.serialKey !== null) {
      let set = this.waitingSerial.get(job.serialKey);
      if (!set) this.waitingSerial.set(job.serialKey, (set = new Set()));
      set.add(rec);
    } else if (job.state === 'running') {
      this.running.add(rec);
      if (job.serialKey !== null) this.runningSerial.set(job.serialKey, rec);
    }
  }
}
