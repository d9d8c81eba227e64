import { describe, expect, it } from 'vitest';
import { unstorableText } from '../../../lib/common/storable-text.js';
import { toAttemptError } from '../../../lib/execution/job-errors.js';
import { PayloadTooLargeError, UnstorableResultError } from '../../../lib/scheduler.errors.js';
import { storableAttemptError, storableMessage, storableResult, storableResultValue } from '../../../lib/store/storable-output.js';

const AT = new Date('2026-01-01T00:00:00.000Z');
const PAIR = '\u{1F600}';

describe('what a handler produces, as stored', () => {
  it('a result: U+0000 and lone surrogates become U+FFFD, in values and keys', () => {
    const result = { text: 'a\u0000b\uD800', ['k\uDC00']: [PAIR] };
    expect(JSON.parse(storableResult('1', result, 1_000)!)).toEqual({ text: 'a\uFFFDb\uFFFD', 'k\uFFFD': [PAIR] });
    expect(storableResultValue('1', result, 1_000)).toEqual({ text: 'a\uFFFDb\uFFFD', 'k\uFFFD': [PAIR] });
    expect(storableResultValue('1', 'x\u0000', 1_000)).toBe('x\uFFFD');
    expect(storableResultValue('1', 42, 1_000)).toBe(42);
    expect(storableResult('1', null, 1_000)).toBeNull();
  });

  it('a result over the limit is an UnstorableResultError whose cause is a PayloadTooLargeError', () => {
    for (const result of [{ big: 'x'.repeat(200) }, 'x'.repeat(200)]) {
      let error: unknown;
      try {
        storableResultValue('7', result, 100);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnstorableResultError);
      expect((error as UnstorableResultError).jobId).toBe('7');
      expect((error as UnstorableResultError).cause).toBeInstanceOf(PayloadTooLargeError);
      expect((error as UnstorableResultError).cause).toMatchObject({ field: 'result', limit: 100 });
    }
  });

  it('an error: every text field cleaned', () => {
    const clean = storableAttemptError({ attempt: 1, at: AT, name: 'E\u0000', message: `m\uD800`, stack: 's\uDC00', kind: 'error' });
    expect(clean).toEqual({ attempt: 1, at: AT, name: 'E\uFFFD', message: 'm\uFFFD', stack: 's\uFFFD', kind: 'error' });
  });

  it('a cancel reason: cleaned and cut to 2,000 code points', () => {
    expect(storableMessage('why\u0000')).toBe('why\uFFFD');
    const cut = storableMessage(`${'r'.repeat(1_999)}${PAIR}${'r'.repeat(10)}`);
    expect(cut).toBe(`${'r'.repeat(1_999)}${PAIR}… (10 more characters)`);
  });
});

describe('toAttemptError', () => {
  it('cuts a message on code points: a pair straddling 2,000 units stays whole', () => {
    const message = `${'x'.repeat(1_999)}${PAIR}${'y'.repeat(500)}`;
    const stored = toAttemptError(new Error(message), 1, AT, 'error');
    expect(stored.message).toBe(`${'x'.repeat(1_999)}${PAIR}… (500 more characters)`);
    expect(unstorableText(stored.message)).toBeNull();
    expect(unstorableText(stored.stack!)).toBeNull();
    // Storing it again changes nothing (no second cut).
    expect(storableAttemptError(stored)).toEqual(stored);
  });

  it('cleans U+0000 and lone surrogates in the name, message and stack', () => {
    const error = new Error('bad\u0000 \uD800');
    error.name = 'Weird\uDC00Error';
    const stored = toAttemptError(error, 2, AT, 'error');
    expect(stored.message).toBe('bad\uFFFD \uFFFD');
    expect(stored.name).toBe('Weird\uFFFDError');
    expect(unstorableText(stored.stack!)).toBeNull();
    expect(toAttemptError('thrown string\u0000', 1, AT, 'error').message).toBe('thrown string\uFFFD');
  });
});
