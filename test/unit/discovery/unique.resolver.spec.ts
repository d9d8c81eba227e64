import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../../lib/common/json.js';
import type { UniqueOption } from '../../../lib/decorators/job-options.js';
import { resolveUnique, uniqueKeyOf } from '../../../lib/discovery/unique.resolver.js';
import { InvalidArgumentError } from '../../../lib/scheduler.errors.js';

const fail = (option: string, detail: string): never => {
  throw new InvalidArgumentError(option, detail);
};
const refused = (value: unknown): string => {
  try {
    resolveUnique(value as UniqueOption, fail);
  } catch (error) {
    return (error as InvalidArgumentError).argument;
  }
  return 'accepted';
};
const sha = (text: string) => createHash('sha1').update(text).digest('hex').slice(0, 16);
const job: { name: string; queue: string; args: JsonValue } = { name: 'sync', queue: 'default', args: { userId: 1, page: 2 } };

describe('resolveUnique', () => {
  it('reads true, a key and an object, defaulting the object to true’s meaning', () => {
    expect(resolveUnique(undefined, fail)).toBeNull();
    expect(resolveUnique(false, fail)).toBeNull();
    expect(resolveUnique(true, fail)).toEqual({
      legacy: true,
      key: null,
      by: ['name', 'args'],
      argKeys: [],
      states: ['scheduled', 'available', 'running'],
      period: null,
    });
    expect(resolveUnique('k', fail)).toMatchObject({ legacy: false, key: 'k', by: [], states: ['scheduled', 'available', 'running'] });
    expect(resolveUnique({}, fail)).toMatchObject({ legacy: false, key: null, by: ['name', 'args'], period: null });
    expect(resolveUnique({ key: 'k' }, fail)).toMatchObject({ key: 'k', by: [] });
    expect(resolveUnique({ by: ['args', { args: ['b', 'a'] }, 'queue', 'name', { args: ['a'] }], states: ['running', 'running'], period: '1h' }, fail)).toEqual(
      {
        legacy: false,
        key: null,
        by: ['name', 'queue', 'args'],
        argKeys: ['b', 'a'],
        states: ['running'],
        period: 3_600_000,
      },
    );
  });

  it('refuses what it cannot honour, naming the option', () => {
    expect(refused(42)).toBe('unique');
    expect(refused('')).toBe('unique');
    expect(refused([])).toBe('unique');
    expect(refused({ keys: 'x' })).toBe('unique.keys');
    expect(refused({ key: '' })).toBe('unique.key');
    expect(refused({ by: [] })).toBe('unique.by');
    expect(refused({ by: 'id' })).toBe('unique.by');
    expect(refused({ by: { args: [] } })).toBe('unique.by');
    expect(refused({ by: { args: [''] } })).toBe('unique.by');
    expect(refused({ states: [] })).toBe('unique.states');
    expect(refused({ states: ['queued'] })).toBe('unique.states');
    expect(refused({ period: 0 })).toBe('unique.period');
    expect(refused({ period: 'soon' })).toBe('unique.period');
  });
});

describe('uniqueKeyOf', () => {
  const key = (value: UniqueOption, of: { name: string; queue: string; args: JsonValue } = job) => uniqueKeyOf(resolveUnique(value, fail)!, of, fail);

  it("keeps unique: true's key as it always was (name:sha1 of the args' JSON), so keys stored before an upgrade still collide", () => {
    expect(key(true)).toBe(`sync:${sha(JSON.stringify(job.args))}`);
    expect(key({})).toBe(key(true));
    expect(key({ by: ['args', 'name'] })).toBe(key(true));
  });

  it('derives a key from what `by` names, with `key` as a prefix', () => {
    expect(key('fixed')).toBe('fixed');
    expect(key({ key: 'fixed' })).toBe('fixed');
    expect(key({ by: 'name' })).toBe('sync');
    expect(key({ by: 'queue' })).toBe('queue=default');
    expect(key({ key: 'daily', by: ['name', 'queue'] })).toBe('daily:sync:queue=default');
    expect(key({ by: { args: ['userId'] } })).toBe(`args(userId)=${sha('[1]')}`);
    // Only the chosen keys count; a missing one counts as null.
    expect(key({ by: { args: ['userId'] } }, { ...job, args: { userId: 1, page: 9 } })).toBe(key({ by: { args: ['userId'] } }));
    expect(key({ by: { args: ['userId'] } }, { ...job, args: { userId: 2 } })).not.toBe(key({ by: { args: ['userId'] } }));
    expect(key({ by: { args: ['org'] } }, { ...job, args: {} })).toBe(`args(org)=${sha('[null]')}`);
  });

  it('refuses argument keys of arguments that are not an object', () => {
    expect(() => key({ by: { args: ['id'] } }, { ...job, args: [1] as never })).toThrow(InvalidArgumentError);
    expect(() => key({ by: { args: ['id'] } }, { ...job, args: null as never })).toThrow(/not an object/);
  });
});
