import { describe, expect, it, vi } from 'vitest';
import { resolveJobDefaults } from '../../../lib/discovery/job-defaults.resolver.js';
import { ClassifiedError, errorTripsCircuit } from '../../../lib/errors/classified.error.js';
import { ErrorClassifier } from '../../../lib/errors/error.classifier.js';
import type { ErrorClassifyFunction } from '../../../lib/errors/error-classifier.types.js';
import { DiscardJobError, InvalidArgumentError, RetryJobError } from '../../../lib/scheduler.errors.js';
import { FakeClock } from '../../../lib/testing/index.js';

const T0 = Date.UTC(2026, 0, 1);

function classifier(options: { classify?: ErrorClassifyFunction; clock?: FakeClock; warn?: (m: string) => void } = {}) {
  const clock = options.clock ?? new FakeClock(T0);
  const defaults = resolveJobDefaults({ maxRetries: 3, backoff: '7s' });
  return new ErrorClassifier({ classify: options.classify, defaults, now: () => clock.now(), warn: options.warn });
}
function err(props: Record<string, unknown>, message = 'failed'): Error {
  return Object.assign(new Error(message), props);
}

describe('ErrorClassifier', () => {
  it("gives each recognised class the seed's retry settings", () => {
    const c = classifier();
    expect(c.classify(err({ code: 'ECONNRESET' }))).toEqual({
      errorClass: 'retryable',
      retryable: true,
      maxRetries: 5,
      backoff: { type: 'exponential', delay: 1_000, max: 60_000, factor: 2, jitter: 0.1 },
      retryAfter: null,
      tripsCircuit: null,
      source: 'rule',
    });
    expect(c.classify(err({ code: 'EBUSY' }))).toMatchObject({ errorClass: 'transient', maxRetries: 3, backoff: { type: 'fixed', delay: 500 } });
    expect(c.classify(err({ status: 503 }))).toMatchObject({
      errorClass: 'degraded',
      maxRetries: 2,
      backoff: { type: 'exponential', delay: 5_000, max: 300_000 },
    });
    expect(c.classify(err({ status: 404 }))).toMatchObject({ errorClass: 'terminal', retryable: false, maxRetries: 0, backoff: null });
  });

  it("an unrecognised error is retryable with the job's or the module's settings", () => {
    const c = classifier();
    expect(c.classify(new Error('?'))).toMatchObject({
      errorClass: 'retryable',
      maxRetries: 3,
      backoff: { type: 'fixed', delay: 7_000 },
      source: 'unrecognised',
    });
    expect(c.classify(new Error('?'), { fallbackMaxRetries: 8 }).maxRetries).toBe(8);
    expect(c.nextAction(new Error('?'), 1)).toEqual({ action: 'retry', delayMs: 7_000 });
    expect(c.nextAction(new Error('?'), 3)).toEqual({ action: 'retry', delayMs: 7_000 });
    expect(c.nextAction(new Error('?'), 4)).toEqual({ action: 'dead' });
  });

  it("precedence: terminal never retries; then the job's own settings; then the class's; then the module's", () => {
    const c = classifier();
    const own = { maxRetries: 1, backoff: () => 42 };
    // terminal beats a job that allows retries
    expect(c.nextAction(err({ status: 422 }), 1, own)).toEqual({ action: 'dead' });
    // the job's own settings beat the class's
    expect(c.nextAction(err({ code: 'EBUSY' }), 1, own)).toEqual({ action: 'retry', delayMs: 42 });
    expect(c.nextAction(err({ code: 'EBUSY' }), 2, own)).toEqual({ action: 'dead' });
    // only one of them set: the other comes from the class
    expect(c.nextAction(err({ code: 'EBUSY' }), 1, { maxRetries: 1 })).toEqual({ action: 'retry', delayMs: 500 });
    expect(c.nextAction(err({ code: 'EBUSY' }), 3, { backoff: () => 9 })).toEqual({ action: 'retry', delayMs: 9 });
    expect(c.nextAction(err({ code: 'EBUSY' }), 4, { backoff: () => 9 })).toEqual({ action: 'dead' });
    // the class's settings beat the module's (3 retries, 7 s)
    expect(c.nextAction(err({ code: 'EBUSY' }), 3)).toEqual({ action: 'retry', delayMs: 500 });
    expect(c.nextAction(err({ status: 502 }), 3)).toEqual({ action: 'dead' });
    const retryable = c.nextAction(err({ code: 'ETIMEDOUT' }), 5);
    expect(retryable.action).toBe('retry');
    expect((retryable as { delayMs: number }).delayMs).toBeGreaterThanOrEqual(14_400); // 16 s ± 10 %
    expect((retryable as { delayMs: number }).delayMs).toBeLessThanOrEqual(17_600);
    expect(c.nextAction(err({ code: 'ETIMEDOUT' }), 6)).toEqual({ action: 'dead' });
  });

  it("an error's own verdict comes first: ClassifiedError, or errorClass / retryAfter / tripsCircuit properties", () => {
    const c = classifier({ classify: () => 'terminal' });
    class PaymentDeclined extends ClassifiedError {
      constructor() {
        super('soft decline', 'transient', { retryAfter: '45s', tripsCircuit: false });
      }
    }
    expect(c.classify(new PaymentDeclined())).toMatchObject({ errorClass: 'transient', retryAfter: 45_000, tripsCircuit: false, source: 'error' });
    expect(c.nextAction(new PaymentDeclined(), 1)).toEqual({ action: 'retry', delayMs: 45_000 });
    expect(c.classify(err({ errorClass: 'degraded', tripsCircuit: true }))).toMatchObject({ errorClass: 'degraded', tripsCircuit: true, source: 'error' });
    // an errorClass that is not one of ours is someone else's property: the next step decides
    expect(c.classify(err({ errorClass: 'fatal' }))).toMatchObject({ errorClass: 'terminal', source: 'classify' });
  });

  it('retryAfter on an error: milliseconds, a duration string or a Date; it wins over any backoff, and over a rule', () => {
    const clock = new FakeClock(T0);
    const c = classifier({ clock });
    expect(c.nextAction(err({ retryAfter: 2_500 }), 1, { backoff: () => 1 })).toEqual({ action: 'retry', delayMs: 2_500 });
    expect(c.nextAction(err({ retryAfter: '1m' }), 1)).toEqual({ action: 'retry', delayMs: 60_000 });
    expect(c.nextAction(err({ retryAfter: new Date(T0 + 5_000) }), 1)).toEqual({ action: 'retry', delayMs: 5_000 });
    expect(c.nextAction(err({ status: 429, retryAfter: '3s', headers: { 'retry-after': '100' } }), 1)).toEqual({ action: 'retry', delayMs: 3_000 });
    // unreadable: the backoff decides
    expect(c.nextAction(err({ retryAfter: 'whenever' }), 1)).toEqual({ action: 'retry', delayMs: 7_000 });
  });

  it('a 429 retries at its Retry-After: seconds, or an HTTP date read against the clock', async () => {
    const clock = new FakeClock(T0);
    const c = classifier({ clock });
    expect(c.nextAction(err({ response: { status: 429, headers: { 'retry-after': '30' } } }), 1)).toEqual({ action: 'retry', delayMs: 30_000 });
    const date = err({ status: 429, headers: new Headers({ 'retry-after': new Date(T0 + 120_000).toUTCString() }) });
    expect(c.nextAction(date, 1)).toEqual({ action: 'retry', delayMs: 120_000 });
    await clock.advance('100s');
    expect(c.nextAction(date, 1)).toEqual({ action: 'retry', delayMs: 20_000 });
    expect(c.classify(date)).toMatchObject({ errorClass: 'retryable', retryAfter: 20_000, maxRetries: 5 });
  });

  it('the errors.classify option comes after the error and before the rules; undefined leaves it to the rules', () => {
    const classify = vi.fn((error: unknown) => ((error as Error).message.includes('quota') ? ('degraded' as const) : undefined));
    const c = classifier({ classify });
    expect(c.classify(new Error('quota exceeded'))).toMatchObject({ errorClass: 'degraded', source: 'classify', maxRetries: 2 });
    expect(c.classify(err({ code: 'EBUSY' }))).toMatchObject({ errorClass: 'transient', source: 'rule' });
    expect(c.classify(err({ errorClass: 'terminal' }, 'quota'))).toMatchObject({ errorClass: 'terminal', source: 'error' });
  });

  it('a classify that throws or answers nonsense is reported, and the rules decide', () => {
    const warn = vi.fn();
    const throwing = classifier({
      warn,
      classify: () => {
        throw new Error('bug');
      },
    });
    expect(throwing.classify(err({ code: 'EBUSY' }))).toMatchObject({ errorClass: 'transient', source: 'rule' });
    const nonsense = classifier({ warn, classify: () => 'fatal' as never });
    expect(nonsense.classify(new Error('x'))).toMatchObject({ errorClass: 'retryable', source: 'unrecognised' });
    expect(warn.mock.calls.map(([m]) => m)).toEqual([
      'errors.classify threw (bug); the built-in rules decide',
      'errors.classify returned "fatal", not an error class; the built-in rules decide',
    ]);
  });

  it("DiscardJobError discards, RetryJobError retries at its delay with the job's settings, whatever its cause", () => {
    const c = classifier();
    expect(c.nextAction(new DiscardJobError('no'), 1)).toEqual({ action: 'discard' });
    expect(c.classify(new DiscardJobError('no'))).toMatchObject({ errorClass: 'terminal', retryable: false });
    const retry = new RetryJobError('later', { delay: '2s', cause: err({ status: 404 }) });
    expect(c.nextAction(retry, 1)).toEqual({ action: 'retry', delayMs: 2_000 });
    expect(c.nextAction(retry, 4)).toEqual({ action: 'dead' });
    expect(c.classify(retry)).toMatchObject({ errorClass: 'retryable', source: 'unrecognised' });
  });

  it('classifies one failure once (settle asks classify a single time)', () => {
    const classify = vi.fn(() => 'transient' as const);
    expect(classifier({ classify }).settle(new Error('x'), 1)).toEqual({ errorClass: 'transient', next: { action: 'retry', delayMs: 500 } });
    expect(classify).toHaveBeenCalledTimes(1);
  });

  it('ClassifiedError refuses a class or retryAfter it does not know, with a typed error', () => {
    expect(() => new ClassifiedError('x', 'fatal' as never)).toThrow(InvalidArgumentError);
    expect(() => new ClassifiedError('x', 'transient', { retryAfter: 'soon' })).toThrow(InvalidArgumentError);
    const error = new ClassifiedError('x', 'terminal', { cause: 'why' });
    expect(error).toMatchObject({ name: 'ClassifiedError', errorClass: 'terminal', cause: 'why' });
    expect(error.retryAfter).toBeUndefined();
  });

  it("errorTripsCircuit reads the error's own say, or undefined", () => {
    expect(errorTripsCircuit(err({ tripsCircuit: true }))).toBe(true);
    expect(errorTripsCircuit(new ClassifiedError('x', 'degraded', { tripsCircuit: false }))).toBe(false);
    expect(errorTripsCircuit(err({ tripsCircuit: 'yes' }))).toBeUndefined();
    expect(errorTripsCircuit('boom')).toBeUndefined();
  });

  it('a job backoff that throws or returns nonsense retries at once', () => {
    const c = classifier();
    expect(
      c.nextAction(new Error('x'), 1, {
        backoff: () => {
          throw new Error('bad');
        },
      }),
    ).toEqual({ action: 'retry', delayMs: 0 });
    expect(c.nextAction(new Error('x'), 1, { backoff: () => Number.NaN })).toEqual({ action: 'retry', delayMs: 0 });
  });
});
