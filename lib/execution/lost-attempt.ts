import type { AbortReason } from '../scheduler.errors.js';
import type { JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';

/** What {@link abortLost} uses of an attempt. @internal */
export interface LostAttempt {
  readonly job: Job<unknown>;
  abort(reason: AbortReason, detail?: string): void;
}

/**
 * The reason a cancel stored on a job (its last error of kind `cancel`):
 * a cancel notice carries only the job's id.
 * @internal
 */
export function cancelReason(job: Job<unknown>): string | undefined {
  return job.errors.findLast((error) => error.kind === 'cancel')?.message;
}

/**
 * Aborts an attempt a heartbeat (or a progress write) found no longer owns
 * its job. A job cancelled in that attempt is aborted as a cancel, with the
 * cancel's reason: its notice did not reach this node (sent while the
 * node's LISTEN or subscription was down), and `ctx.abortReason`, the
 * `job:cancel` event and the metrics should still say so. Any other (the
 * job rescued elsewhere) is a lost lease. One read, for lost attempts only;
 * a read that fails is taken as a lost lease.
 * @internal
 */
export async function abortLost(store: Pick<JobStore, 'get'>, attempt: LostAttempt): Promise<void> {
  const job = await store.get(attempt.job.id).catch(() => null);
  if (job?.state === 'cancelled' && job.attempt === attempt.job.attempt) attempt.abort('cancel', cancelReason(job));
  else attempt.abort('lease-lost');
}
