import { sanitizeJson, sanitizeText, truncateText } from '../common/storable-text.js';
import type { JsonValue } from '../common/json.js';
import { PayloadTooLargeError, UnstorableResultError } from '../scheduler.errors.js';
import type { ErrorClass, JobAttemptError } from './job.types.js';

/**
 * What a handler produces (its result, what it threw, a cancel reason) as a
 * store keeps it. Unlike input, which is refused when a store cannot keep it,
 * output is cleaned: U+0000 and lone surrogates become U+FFFD and long text
 * is cut on code points. Its acknowledgement must never fail because of it,
 * or the job would stay running and be rescued and run again.
 */

/**
 * Longest stored error message or cancel reason, in code points.
 * @publicApi
 */
export const MAX_MESSAGE_LENGTH = 2_000;
/**
 * Longest stored stack, in code points.
 * @internal
 */
export const MAX_STACK_LENGTH = 4_000;
/**
 * Longest stored error name, in code points.
 * @internal
 */
export const MAX_ERROR_NAME_LENGTH = 200;

/**
 * A result as stored: sanitised JSON text, or `null` for none.
 *
 * @throws UnstorableResultError when it is not JSON (a BigInt, a cycle) or
 *   its JSON is over `maxPayloadBytes` (the cause is a PayloadTooLargeError).
 * @publicApi
 */
export function storableResult(jobId: string, result: JsonValue | null, maxPayloadBytes: number): string | null {
  if (result === null || result === undefined) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    throw new UnstorableResultError(jobId, `it is not JSON (${(error as Error).message})`, { cause: error });
  }
  if (json === undefined) return null;
  json = sanitizeJson(json);
  if (json.length * 3 > maxPayloadBytes) {
    const bytes = Buffer.byteLength(json);
    if (bytes > maxPayloadBytes) {
      const cause = new PayloadTooLargeError(bytes, maxPayloadBytes, 'result');
      throw new UnstorableResultError(jobId, cause.message, { cause });
    }
  }
  return json;
}

/**
 * A result as the memory store keeps it: {@link storableResult}, parsed (a copy that shares nothing with the caller's).
 * @publicApi
 */
export function storableResultValue(jobId: string, result: JsonValue | null, maxPayloadBytes: number): JsonValue | null {
  // Primitives but strings need neither a copy nor cleaning.
  if (result === null || result === undefined || typeof result === 'number' || typeof result === 'boolean') return result ?? null;
  if (typeof result === 'string') {
    const text = sanitizeText(result);
    if (text.length * 3 + 2 > maxPayloadBytes) storableResult(jobId, text, maxPayloadBytes);
    return text;
  }
  const json = storableResult(jobId, result, maxPayloadBytes);
  return json === null ? null : (JSON.parse(json) as JsonValue);
}

/**
 * An error message or cancel reason as stored: cleaned, and cut to {@link MAX_MESSAGE_LENGTH} code points.
 * @publicApi
 */
export function storableMessage(text: string): string {
  return truncateText(sanitizeText(String(text)), MAX_MESSAGE_LENGTH);
}

/**
 * An attempt error with every text field cleaned (a new object; `at` is
 * shared). Cutting to length is the executor's (`toAttemptError`): cutting
 * again here would cut its note of what was cut.
 * @publicApi
 */
export function storableAttemptError(error: JobAttemptError): JobAttemptError {
  const { attempt, at, name, message, stack, kind, errorClass } = error;
  return {
    attempt,
    at,
    name: sanitizeText(String(name)),
    message: sanitizeText(String(message)),
    ...(stack === undefined ? {} : { stack: sanitizeText(String(stack)) }),
    kind: sanitizeText(String(kind)),
    ...(isErrorClass(errorClass) ? { errorClass } : {}),
  };
}

const ERROR_CLASSES: ReadonlySet<unknown> = new Set<ErrorClass>(['retryable', 'transient', 'degraded', 'terminal']);

/**
 * Whether a stored error's class is one of the four (anything else is not kept).
 * @internal
 */
export function isErrorClass(value: unknown): value is ErrorClass {
  return ERROR_CLASSES.has(value);
}
