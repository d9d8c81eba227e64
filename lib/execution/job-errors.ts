import { sanitizeText, truncateText } from '../common/storable-text.js';
import { MAX_ERROR_NAME_LENGTH, MAX_MESSAGE_LENGTH, MAX_STACK_LENGTH } from '../store/storable-output.js';
import type { ErrorClass, JobAttemptError } from '../store/job.types.js';

/**
 * Turns anything thrown into the form kept on the job: cleaned (U+0000 and
 * lone surrogates become U+FFFD, which every store can keep) and cut on code
 * points, so that a cut never splits a surrogate pair.
 * @internal
 */
export function toAttemptError(error: unknown, attempt: number, at: Date, kind: string, errorClass?: ErrorClass): JobAttemptError {
  const isError = error instanceof Error;
  const message = isError ? error.message : typeof error === 'string' ? error : safeJson(error);
  return {
    attempt,
    at,
    kind,
    name: storable(isError ? error.name : typeof error, MAX_ERROR_NAME_LENGTH),
    message: storable(message, MAX_MESSAGE_LENGTH),
    ...(isError && error.stack ? { stack: storable(error.stack, MAX_STACK_LENGTH) } : {}),
    ...(errorClass === undefined ? {} : { errorClass }),
  };
}

function storable(text: unknown, max: number): string {
  return truncateText(sanitizeText(String(text)), max);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
