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
  // Reading what was thrown may itself throw (a getter, a proxy, an object
  // with no prototype that String() refuses): each part falls back on its
  // own, so that the acknowledgement is always written (a failure left
  // unacknowledged leaves the job running, to be rescued and run again).
  const isError = read(() => error instanceof Error, false);
  const name = isError ? read(() => (error as Error).name, 'Error') : read(() => typeof error, 'unknown');
  const message = isError ? read(() => (error as Error).message, '(its message could not be read)') : typeof error === 'string' ? error : safeJson(error);
  const stack = isError ? read(() => (error as Error).stack, undefined) : undefined;
  return {
    attempt,
    at,
    kind,
    name: storable(name, MAX_ERROR_NAME_LENGTH),
    message: storable(message, MAX_MESSAGE_LENGTH),
    ...(stack ? { stack: storable(stack, MAX_STACK_LENGTH) } : {}),
    ...(errorClass === undefined ? {} : { errorClass }),
  };
}

/** The message of the stand-in for a thrown value nothing can be asked of. */
const UNTELLABLE = '(a thrown value that cannot be inspected: even instanceof threw on it)';

/**
 * What was thrown, or a plain `Error` in its place when not even `instanceof`
 * can be asked of it (a proxy whose traps throw): the classifier, breakers,
 * metrics and event listeners after the chain all ask, and one of them
 * throwing would leave the attempt unacknowledged, to be rescued and run
 * again. Values `instanceof` can be asked of pass through as they are
 * (their unreadable parts fall back one by one in {@link toAttemptError}).
 * @internal
 */
export function tellableError(error: unknown): unknown {
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return error;
  try {
    // What `instanceof` reads: a value whose prototype cannot be read answers no `instanceof` downstream.
    Object.getPrototypeOf(error);
    return error;
  } catch {
    return new Error(UNTELLABLE);
  }
}

/**
 * What was thrown, as text for a log line or a stored message; never throws.
 * @internal
 */
export function safeErrorText(error: unknown): string {
  if (read(() => error instanceof Error, false)) return safeString(read(() => (error as Error).message, '(its message could not be read)'));
  return safeString(error);
}

function storable(text: unknown, max: number): string {
  return truncateText(sanitizeText(safeString(text)), max);
}

/** What `run` answers, or `fallback` when it throws. */
function read<T, F>(run: () => T, fallback: F): T | F {
  try {
    return run();
  } catch {
    return fallback;
  }
}

/** `String(value)`, or a description of it when String() throws (no prototype, a throwing `toString`, a proxy). */
function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `(${typeof value} that cannot be converted to text)`;
  }
}

function safeJson(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // falls back on String()
  }
  return safeString(value);
}
