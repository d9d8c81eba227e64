import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, PayloadTooLargeError } from '../../../lib/scheduler.errors.js';
import {
  checkDate,
  checkNewJobs,
  DEFAULT_MAX_PAYLOAD_BYTES,
  JOB_INPUT_LIMITS,
  MAX_PAYLOAD_BYTES_CEILING,
  resolveMaxPayloadBytes,
} from '../../../lib/store/job-input.validation.js';
import type { NewJob } from '../../../lib/store/job.types.js';
import { storableJson } from '../../../lib/store/json-value.validation.js';
import { newJobInput } from '../../support/new-job.js';

const AT = new Date('2026-01-01T00:00:00.000Z');
const job = (overrides: Partial<NewJob> = {}): NewJob => newJobInput(AT, overrides);
const LIMIT = DEFAULT_MAX_PAYLOAD_BYTES;

/** The InvalidArgumentError `check` throws (fails the test if it throws nothing or something else). */
function refusal(check: () => unknown): InvalidArgumentError {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('nothing was refused');
}

describe('storableJson (args, meta, runtime schedule args)', () => {
  it('returns the JSON text of a storable value', () => {
    expect(storableJson('args', { a: [1, 'é', '\u{1F600}', null] }, LIMIT)).toBe('{"a":[1,"é","\u{1F600}",null]}');
  });

  it('refuses U+0000 and lone surrogates in strings and keys, naming the path', () => {
    expect(refusal(() => storableJson('args', { a: { b: ['ok', 'x\u0000'] } }, LIMIT)).detail).toBe('args.a.b[1] contains U+0000, which the store cannot keep');
    expect(refusal(() => storableJson('args', { s: 'x\uD800' }, LIMIT)).detail).toContain('args.s contains a lone surrogate');
    expect(refusal(() => storableJson('meta', { ['k\uDC00']: 1 }, LIMIT)).detail).toContain('meta has a key that contains a lone surrogate');
  });

  it('refuses BigInt, cycles and non-JSON with InvalidArgumentError, not a TypeError', () => {
    expect(refusal(() => storableJson('args', { n: 10n }, LIMIT)).detail).toContain('args.n is a BigInt');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(refusal(() => storableJson('meta', cyclic, LIMIT)).detail).toContain('meta.self.back refers back to an object that contains it');
    expect(refusal(() => storableJson('args', () => 1, LIMIT)).detail).toBe('must be JSON');
    expect(refusal(() => storableJson('args', undefined, LIMIT)).detail).toBe('must be JSON');
  });

  it('refuses JSON over the limit (bytes of UTF-8) with PayloadTooLargeError naming the field', () => {
    expect(storableJson('args', 'é'.repeat(49), 100)).toHaveLength(51); // 2 + 98 bytes: at the limit
    try {
      storableJson('meta', { s: 'é'.repeat(50) }, 100);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect(error).toMatchObject({ field: 'meta', limit: 100, bytes: 108 });
    }
  });
});

describe('checkNewJobs (what every store accepts)', () => {
  it('accepts a plain job and returns its args and meta as JSON text', () => {
    expect(checkNewJobs([job({ args: { n: 1 }, meta: { m: true } })], LIMIT)).toEqual([{ args: '{"n":1}', meta: '{"m":true}' }]);
  });

  it.each<[string, Partial<NewJob>, string]>([
    ['an empty name', { name: '' }, 'name'],
    ['a name over 200 characters', { name: 'n'.repeat(201) }, 'name'],
    ['a name with a lone surrogate', { name: 'n\uD800' }, 'name'],
    ['a queue over 200 characters', { queue: 'q'.repeat(201) }, 'queue'],
    ['a schedule name with U+0000', { schedule: 's\u0000' }, 'schedule'],
    ['a unique key over 1,000 bytes', { uniqueKey: 'k'.repeat(1_001) }, 'uniqueKey'],
    ['a unique key of 334 three-byte characters (1,002 bytes)', { uniqueKey: '漢'.repeat(334) }, 'uniqueKey'],
    ['a unique key with a lone surrogate', { uniqueKey: 'k\uDBFF' }, 'uniqueKey'],
    ['a tick key with U+0000', { tickKey: 't\u0000' }, 'tickKey'],
    ['a serial key over 1,000 bytes', { serialKey: 's'.repeat(1_001) }, 'serialKey'],
    ['51 tags', { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, 'tags'],
    ['a tag over 200 characters', { tags: ['t'.repeat(201)] }, 'tags'],
    ['a tag with a lone surrogate', { tags: ['ok', 't\uDC00'] }, 'tags'],
    ['args with U+0000', { args: { s: 'a\u0000' } }, 'args'],
    ['args with a lone surrogate in a key', { args: { ['\uD800']: 1 } }, 'args'],
    ['args with a BigInt', { args: { n: 1n } as never }, 'args'],
    ['meta with a lone surrogate', { meta: { s: '\uDFFF' } }, 'meta'],
    ['meta that is an array', { meta: [] as never }, 'meta'],
    ['a priority of 10', { priority: 10 }, 'priority'],
    ['a fractional maxAttempts', { maxAttempts: 1.5 }, 'maxAttempts'],
    ['a negative timeout', { timeout: -1 }, 'timeout'],
    ['an invalid runAt', { runAt: new Date(Number.NaN) }, 'runAt'],
    ['a runAt in year 10000', { runAt: new Date('+010000-01-01T00:00:00.000Z') }, 'runAt'],
    ['a runAt before year 1', { runAt: new Date('0000-12-31T23:59:59.999Z') }, 'runAt'],
    ['a scheduledAt in year 10000', { scheduledAt: new Date('+010000-01-01T00:00:00.000Z') }, 'scheduledAt'],
  ])('refuses %s, naming the field', (_, overrides, argument) => {
    expect(refusal(() => checkNewJobs([job(overrides)], LIMIT)).argument).toBe(argument);
  });

  it('accepts every limit exactly', () => {
    const edge = job({
      name: 'n'.repeat(200),
      queue: 'q'.repeat(200),
      uniqueKey: 'k'.repeat(1_000),
      tickKey: '漢'.repeat(333),
      tags: Array.from({ length: 50 }, () => 't'.repeat(200)),
      priority: 9,
      runAt: JOB_INPUT_LIMITS.maxDate,
      scheduledAt: JOB_INPUT_LIMITS.minDate,
    });
    expect(() => checkNewJobs([edge], LIMIT)).not.toThrow();
  });

  it('says which job of a batch is at fault', () => {
    const error = refusal(() => checkNewJobs([job(), job(), job({ uniqueKey: 'k\uD800' })], LIMIT));
    expect(error.argument).toBe('uniqueKey');
    expect(error.message).toContain('(job 3 of 3)');
  });

  it('checks meta shared by a batch once, and each different meta on its own', () => {
    const meta = { team: 'core' };
    const checked = checkNewJobs([job({ meta }), job({ meta }), job({ meta: { team: 'ops' } })], LIMIT);
    expect(checked.map((c) => c.meta)).toEqual(['{"team":"core"}', '{"team":"core"}', '{"team":"ops"}']);
    expect(() => checkNewJobs([job({ meta }), job({ meta: { bad: 'x\u0000' } })], LIMIT)).toThrow(InvalidArgumentError);
  });
});

describe('checkDate and resolveMaxPayloadBytes', () => {
  it('accepts years 1 to 9999 only', () => {
    expect(() => checkDate('date', new Date('0001-01-01T00:00:00.000Z'))).not.toThrow();
    expect(() => checkDate('date', new Date('9999-12-31T23:59:59.999Z'))).not.toThrow();
    expect(refusal(() => checkDate('date', new Date('+010000-01-01T00:00:00.000Z'))).detail).toMatch(/between years 1 and 9999/);
    expect(refusal(() => checkDate('date', 'tomorrow')).detail).toBe('must be a valid Date');
  });

  it('defaults the payload limit to 1 MiB and accepts 1 byte to 16 MiB', () => {
    const fail = (detail: string): never => {
      throw new Error(detail);
    };
    expect(resolveMaxPayloadBytes(undefined, fail)).toBe(1_048_576);
    expect(resolveMaxPayloadBytes(4 * 1_048_576, fail)).toBe(4 * 1_048_576);
    expect(resolveMaxPayloadBytes(MAX_PAYLOAD_BYTES_CEILING, fail)).toBe(16 * 1_048_576);
    for (const bad of [0, 1.5, MAX_PAYLOAD_BYTES_CEILING + 1, '1mb']) expect(() => resolveMaxPayloadBytes(bad, fail)).toThrow(/from 1 to 16777216/);
  });
});
