import type { ClaimRequest } from '../job-store.js';
import type { JobState } from '../job.types.js';
import { byClaimOrder, jobRecord, type JobRecord } from './claim-index.js';
import { isFinished, jobOfFinished, type FinishedJob, type JobEntry } from './finished-job.js';
import { FinishedJobs } from './finished-jobs.js';
import { liveJob } from './job-records.js';
import { SeqTable } from './seq-table.js';

/**
 * Every job of the memory store by id: live records (available and running)
 * and compact finished ones, kept by insertion number (an id is
 * `String(seq)`: see {@link SeqTable}), so lists are in id order.
 * @internal
 */
export class JobTable {
  private readonly entries = new SeqTable<JobEntry>();
  private readonly finished = new FinishedJobs();

  get(id: string): JobEntry | undefined {
    // Not a number, or not in its canonical form ("07"): no job's id.
    const entry = this.entries.get(Number(id));
    return entry !== undefined && idOf(entry) === id ? entry : undefined;
  }

  /** An available or running job: the ones claims and acknowledgements change. */
  live(id: string): JobRecord | undefined {
    const entry = this.get(id);
    return entry && isFinished(entry) ? undefined : entry;
  }

  /** Every job, oldest first. */
  values(): Generator<JobEntry, void, undefined> {
    return this.entries.values();
  }

  add(rec: JobRecord): void {
    this.entries.set(rec.seq, rec);
  }

  /** The jobs among `ids` that `request` may claim now, in claim order (whether paused or serial aside). */
  claimable(ids: readonly string[], request: ClaimRequest): JobRecord[] {
    const now = request.now.getTime();
    const maxPriority = request.maxPriority ?? 9;
    const recs: JobRecord[] = [];
    for (const id of new Set(ids)) {
      const rec = this.live(id);
      const job = rec?.job;
      if (!job || job.queue !== request.queue || job.state !== 'available' || job.runAt.getTime() > now || job.priority > maxPriority) continue;
      if (job.pinnedNode === null || job.pinnedNode === request.node) recs.push(rec as JobRecord);
    }
    return recs.sort(byClaimOrder);
  }

  /**
   * A live job in its final state (out of every index) is replaced by its
   * compact record, which takes over its JSON values.
   */
  finish(rec: JobRecord, finishedAtMs: number): FinishedJob {
    const finished = this.finished.add(rec.job, rec.seq, finishedAtMs);
    this.entries.set(rec.seq, finished);
    return finished;
  }

  /** A finished job is live again: a record in its place, in no index yet, its state still the final one. */
  revive(finished: FinishedJob): JobRecord {
    this.finished.remove(finished);
    const rec = jobRecord(liveJob(jobOfFinished(finished)), finished.seq);
    this.entries.set(rec.seq, rec);
    return rec;
  }

  delete(entry: JobEntry): void {
    if (isFinished(entry)) this.finished.remove(entry);
    this.entries.delete(entry.seq);
  }

  /** The finished jobs `prune` deletes: see {@link FinishedJobs.oldest}. */
  oldest(states: readonly JobState[], beforeMs: number, limit: number): FinishedJob[] {
    return this.finished.oldest(states, beforeMs, limit);
  }
}

function idOf(entry: JobEntry): string {
  return isFinished(entry) ? entry.id : entry.job.id;
}
