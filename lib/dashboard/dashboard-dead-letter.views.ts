import type { JsonValue } from '../common/json.js';
import type { DeadLetter } from '../dead-letters/dead-letter.entry.js';
import type { DeadLetterClass } from '../store/dead-letter-store.js';
import type { DashboardRedact } from './dashboard.options.js';
import { redactJson } from './dashboard.redaction.js';
import { errorView, jobSummary, type DashboardAttemptError, type DashboardJobSummary } from './dashboard-job.views.js';

/** `GET api/dead-letters`: one dead letter (arguments redacted). @publicApi */
export interface DashboardDeadLetter extends DashboardJobSummary {
  args: JsonValue;
  errorClass: DeadLetterClass;
  firstFailedAt: string;
  lastFailedAt: string;
  /** The last error. */
  error: DashboardAttemptError | null;
}

/** @internal */
export function deadLetterView(entry: DeadLetter<unknown>, redact: DashboardRedact): DashboardDeadLetter {
  const last = entry.errors.at(-1);
  return {
    ...jobSummary(entry),
    args: redactJson(entry.args as JsonValue, redact),
    errorClass: entry.errorClass,
    firstFailedAt: entry.firstFailedAt.toISOString(),
    lastFailedAt: entry.lastFailedAt.toISOString(),
    error: last ? errorView(last) : null,
  };
}
