import type { ClaimKey } from '../store/job-store.js';
import type { Notification } from './notifier.js';

/** A job id as the stores print it: a positive integer of at most 19 digits (a PostgreSQL bigint, a SQLite rowid, a Redis INCR). */
const JOB_ID = /^[1-9][0-9]{0,18}$/;
/** A claim token as PostgreSQL's uuid prints it. */
const CLAIM = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Reads a notification's JSON payload (a PostgreSQL NOTIFY, a Redis message): the `Notification` it holds, or `null` for anything malformed or unknown.
 * @internal
 */
export function parseNotification(payload: string | undefined): Notification | null {
  let value: unknown;
  try {
    value = JSON.parse(payload ?? '');
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'insert': {
      if (typeof m.queue !== 'string') return null;
      const first = claimKey(m.first);
      return first ? { type: 'insert', queue: m.queue, first } : { type: 'insert', queue: m.queue };
    }
    case 'push': {
      const { node, queue, claim, ids } = m;
      if (typeof node !== 'string' || typeof queue !== 'string' || typeof claim !== 'string' || !CLAIM.test(claim)) return null;
      if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string' && JOB_ID.test(id))) return null;
      return { type: 'push', node, queue, claim, ids: ids as string[] };
    }
    case 'cancel':
      // A job id is a bigint in text; nothing else is read (an older node's `reason` is ignored).
      return typeof m.jobId === 'string' && JOB_ID.test(m.jobId) ? { type: 'cancel', jobId: m.jobId } : null;
    case 'queues':
    case 'schedules':
    case 'resync':
    case 'leader':
    case 'breakers':
      return { type: m.type };
    default:
      return null;
  }
}

/** `[priority, runAt epoch ms, id text]`, as the insert statement sends it; anything else is left out. */
function claimKey(value: unknown): ClaimKey | undefined {
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [priority, runAt, id] = value as unknown[];
  if (!Number.isInteger(priority) || typeof runAt !== 'number' || !Number.isFinite(runAt) || typeof id !== 'string' || !JOB_ID.test(id)) return undefined;
  return { priority: priority as number, runAt, id };
}
