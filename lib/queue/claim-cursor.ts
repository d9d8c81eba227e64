import type { ClaimKey } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';

/**
 * Compares two positions in claim order: negative when `a` comes first.
 * @internal
 */
export function compareClaimKeys(a: ClaimKey, b: ClaimKey): number {
  return a.priority - b.priority || a.runAt - b.runAt || a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Where a queue runner's next claim may start (`ClaimRequest.after`): just
 * past the last job of its previous claim, while that claim was full. With a
 * long backlog this keeps each claim's cost flat: it never walks again the
 * entries of jobs claimed before, which a session holding an old snapshot
 * keeps from being cleaned up.
 *
 * Work can appear behind the cursor (a more urgent insert, a job handed
 * back, a serial key freed, a name resumed, a claim of another node rolled
 * back), so the cursor is dropped, and the next claim scans from the start:
 * - after a claim that came back short (the queue was walked to its end);
 * - when an insert notice names a first job at or before the cursor, or does
 *   not name one;
 * - at every poll (`pollInterval`), the bound on how long anything else may
 *   wait behind it;
 * - when this runner hands jobs back or finishes a serial job.
 * @internal
 */
export class ClaimCursor {
  private key: ClaimKey | null = null;

  /** The bound for the next claim, or `undefined` for a scan from the start. */
  get after(): ClaimKey | undefined {
    return this.key ?? undefined;
  }

  /** After a claim of up to `limit` jobs that returned `jobs`, in claim order. */
  claimed(jobs: readonly Job<unknown>[], limit: number): void {
    const last = jobs.length >= limit ? jobs[jobs.length - 1] : undefined;
    this.key = last ? { priority: last.priority, runAt: last.runAt.getTime(), id: last.id } : null;
  }

  /** New work: drops the cursor unless the work's first job (`first`, when known) lies past it. */
  inserted(first?: ClaimKey): void {
    if (this.key !== null && (first === undefined || compareClaimKeys(first, this.key) <= 0)) this.key = null;
  }

  reset(): void {
    this.key = null;
  }
}
