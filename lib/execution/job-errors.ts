import type { JobAttemptError } from '../store/job.types.js';

const MAX_MESSAGE = 2_000;
const MAX_STACK = 4_000;

/** Turns anything thrown into the truncated form kept on the job. */
export function toAttemptError(error: unknown, attempt: number, at: Date, kind: string): JobAttemptError {
  const isError = error instanceof Error;
  const message = isError ? error.message : typeof error === 'string' ? error : safeJson(error);
  return {
    attempt,
    at,
    kind,
    name: isError ? error.name : typeof error,
    message: truncate(message, MAX_MESSAGE),
    ...(isError && error.stack ? { stack: truncate(error.stack, MAX_STACK) } : {}),
  };
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
