import { describe, expect, it } from 'vitest';
import { builtInVerdict } from '../../../lib/errors/error.rules.js';
import { JobAbortedError } from '../../../lib/scheduler.errors.js';

const NOW = Date.UTC(2026, 0, 1);

/** An Error with the given own properties, as libraries throw them. */
function err(props: Record<string, unknown>, message = 'failed'): Error {
  return Object.assign(new Error(message), props);
}

describe('built-in error rules', () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])(
    'Node network error %s is retryable',
    (code) => {
      expect(builtInVerdict(err({ code }), NOW)).toEqual({ errorClass: 'retryable', retryAfter: null, rule: `code ${code}` });
    },
  );

  it.each(['EBUSY', 'EAGAIN', 'EAI_AGAIN', '40001', '40P01', '55P03'])('%s is transient', (code) => {
    expect(builtInVerdict(err({ code }), NOW)?.errorClass).toBe('transient');
  });

  it('a PostgreSQL error wrapped by TypeORM (driverError) or as a cause is judged by the inner error', () => {
    expect(builtInVerdict(err({ driverError: err({ code: '40P01' }) }), NOW)?.errorClass).toBe('transient');
    // fetch's TypeError('fetch failed') carries the socket error as its cause.
    expect(builtInVerdict(new TypeError('fetch failed', { cause: err({ code: 'ECONNREFUSED' }) }), NOW)?.errorClass).toBe('retryable');
  });

  it('timeouts are retryable: a job timeout, a TimeoutError (AbortSignal.timeout, got)', () => {
    expect(builtInVerdict(new JobAbortedError('timeout'), NOW)).toMatchObject({ errorClass: 'retryable', rule: 'timeout' });
    const timeout = new Error('The operation timed out');
    timeout.name = 'TimeoutError';
    expect(builtInVerdict(timeout, NOW)?.errorClass).toBe('retryable');
  });

  it('aborts that are not failures (cancel, shutdown, lost lease) get no class', () => {
    for (const reason of ['cancel', 'shutdown', 'lease-lost'] as const) expect(builtInVerdict(new JobAbortedError(reason), NOW)).toBeUndefined();
  });

  it.each([400, 401, 403, 404, 422])('HTTP %i is terminal, whichever shape carries the status', (status) => {
    expect(builtInVerdict(err({ status }), NOW)?.errorClass).toBe('terminal');
    expect(builtInVerdict(err({ statusCode: status }), NOW)?.errorClass).toBe('terminal');
    expect(builtInVerdict(err({ response: { status } }), NOW)?.errorClass).toBe('terminal');
    expect(builtInVerdict(err({ response: { statusCode: status } }), NOW)?.errorClass).toBe('terminal');
    expect(builtInVerdict(err({ getStatus: () => status }), NOW)?.errorClass).toBe('terminal');
  });

  it.each([502, 503, 504])('HTTP %i is degraded', (status) => {
    expect(builtInVerdict(err({ response: { status } }), NOW)).toMatchObject({ errorClass: 'degraded', rule: `http ${status}` });
  });

  it('validation errors are terminal (class-validator, Joi, zod, mongoose)', () => {
    for (const name of ['ValidationError', 'ZodError', 'ValidatorError']) {
      const error = new Error('invalid');
      error.name = name;
      expect(builtInVerdict(error, NOW)?.errorClass).toBe('terminal');
    }
  });

  it('HTTP 429 is retryable and carries its Retry-After in seconds, from every response shape', () => {
    const fetchHeaders = new Headers({ 'Retry-After': '120' });
    const shapes = [
      err({ status: 429, headers: fetchHeaders }), // a fetch wrapper keeping the Response's headers
      err({ status: 429, response: { headers: fetchHeaders } }),
      err({ response: { status: 429, headers: { 'retry-after': '120' } } }), // axios
      err({ response: { statusCode: 429, headers: { 'retry-after': '120' } } }), // got
      err({ statusCode: 429, headers: { 'Retry-After': ['120'] } }),
    ];
    for (const error of shapes) expect(builtInVerdict(error, NOW)).toEqual({ errorClass: 'retryable', retryAfter: 120_000, rule: 'http 429' });
  });

  it('an HTTP-date Retry-After counts from the clock, never negative', () => {
    const at = new Date(NOW + 90_000).toUTCString();
    expect(builtInVerdict(err({ status: 429, headers: { 'retry-after': at } }), NOW)?.retryAfter).toBe(90_000);
    expect(builtInVerdict(err({ status: 429, headers: { 'retry-after': at } }), NOW + 30_000)?.retryAfter).toBe(60_000);
    expect(builtInVerdict(err({ status: 429, headers: { 'retry-after': at } }), NOW + 120_000)?.retryAfter).toBe(0);
  });

  it('a 429 without a readable Retry-After is retryable with no delay of its own', () => {
    expect(builtInVerdict(err({ status: 429 }), NOW)?.retryAfter).toBeNull();
    expect(builtInVerdict(err({ status: 429, headers: { 'retry-after': 'soon' } }), NOW)?.retryAfter).toBeNull();
    expect(builtInVerdict(err({ status: 429, headers: { 'retry-after': '1.5' } }), NOW)?.retryAfter).toBeNull();
  });

  it('a 503 honours its Retry-After too', () => {
    expect(builtInVerdict(err({ response: { status: 503, headers: { 'retry-after': '30' } } }), NOW)).toMatchObject({
      errorClass: 'degraded',
      retryAfter: 30_000,
    });
  });

  it('anything else is unknown to the rules', () => {
    expect(builtInVerdict(new Error('plain'), NOW)).toBeUndefined();
    expect(builtInVerdict(err({ status: 500 }), NOW)).toBeUndefined();
    expect(builtInVerdict('a string', NOW)).toBeUndefined();
    expect(builtInVerdict(null, NOW)).toBeUndefined();
    const cyclic = err({});
    (cyclic as { cause?: unknown }).cause = cyclic;
    expect(builtInVerdict(cyclic, NOW)).toBeUndefined();
  });
});
