import { JobAbortedError } from '../scheduler.errors.js';
import type { ErrorClass } from '../store/job.types.js';
import { retryAfterHeader } from './retry-after.js';

/**
 * What a built-in rule says of an error: its class and, for an HTTP 429 or
 * 503 with a `Retry-After` header, when to retry (ms from now).
 * @internal
 */
export interface RuleVerdict {
  errorClass: ErrorClass;
  retryAfter: number | null;
  /** The rule that matched, for logs and docs: `code ECONNRESET`, `http 429`, `timeout`, `validation`. */
  rule: string;
}

/** Node's network errors: the peer was unreachable or dropped the connection. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);
/** Busy or contended resources, and PostgreSQL's serialization failure (40001), deadlock (40P01) and lock-not-available (55P03). */
const TRANSIENT_CODES = new Set(['EBUSY', 'EAGAIN', 'EAI_AGAIN', '40001', '40P01', '55P03']);
const TERMINAL_STATUSES = new Set([400, 401, 403, 404, 422]);
const DEGRADED_STATUSES = new Set([502, 503, 504]);
const VALIDATION_NAMES = new Set(['ValidationError', 'ZodError', 'ValidatorError']);
/** How deep `cause` (and TypeORM's `driverError`) is followed: fetch wraps the socket error once, an app may wrap it again. */
const MAX_DEPTH = 4;

/**
 * The built-in rules, first match wins: Node network errors and timeouts →
 * `retryable`; HTTP 429 → `retryable` with its Retry-After; 502/503/504 →
 * `degraded`; 400/401/403/404/422 and validation errors → `terminal`;
 * EBUSY, EAGAIN, EAI_AGAIN and PostgreSQL 40001/40P01/55P03 → `transient`.
 * A wrapped error is judged by its `cause` when it says nothing itself.
 * `undefined` when no rule knows the error.
 * @internal
 */
export function builtInVerdict(error: unknown, now: number): RuleVerdict | undefined {
  for (let depth = 0, current = error; depth < MAX_DEPTH; depth++) {
    if (typeof current !== 'object' || current === null) return undefined;
    const verdict = judge(current, now);
    if (verdict) return verdict;
    const next = (current as { driverError?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
    if (next === current) return undefined;
    current = next;
  }
  return undefined;
}

function judge(error: object, now: number): RuleVerdict | undefined {
  if (error instanceof JobAbortedError) return error.reason === 'timeout' ? verdict('retryable', 'timeout') : undefined;
  const status = httpStatus(error);
  if (status !== undefined) {
    if (status === 429) return verdict('retryable', 'http 429', retryAfterHeader(error, now));
    if (DEGRADED_STATUSES.has(status)) return verdict('degraded', `http ${status}`, status === 503 ? retryAfterHeader(error, now) : null);
    if (TERMINAL_STATUSES.has(status)) return verdict('terminal', `http ${status}`);
    if (status === 408) return verdict('retryable', 'http 408');
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return verdict('retryable', `code ${code}`);
    if (TRANSIENT_CODES.has(code)) return verdict('transient', `code ${code}`);
  }
  const name = (error as { name?: unknown }).name;
  if (name === 'TimeoutError') return verdict('retryable', 'timeout');
  if (typeof name === 'string' && VALIDATION_NAMES.has(name)) return verdict('terminal', 'validation');
  return undefined;
}

/** The HTTP status of an error: `status` / `statusCode` (fetch wrappers, got's response), `response.status` (axios), Nest's `getStatus()`. */
function httpStatus(error: object): number | undefined {
  const e = error as { status?: unknown; statusCode?: unknown; response?: { status?: unknown; statusCode?: unknown }; getStatus?: unknown };
  const response = typeof e.response === 'object' && e.response !== null ? e.response : undefined;
  for (const value of [e.status, e.statusCode, response?.status, response?.statusCode]) {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599) return value;
  }
  if (typeof e.getStatus === 'function') {
    try {
      const value: unknown = (e.getStatus as () => unknown).call(error);
      if (typeof value === 'number') return value;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function verdict(errorClass: ErrorClass, rule: string, retryAfter: number | null = null): RuleVerdict {
  return { errorClass, retryAfter, rule };
}
