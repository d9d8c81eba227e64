import { describe, expect, it } from 'vitest';
import { parseDuration, type Duration } from '../../../lib/common/duration.js';

describe('parseDuration', () => {
  it.each<[Duration, number]>([
    [0, 0],
    [1, 1],
    [1500, 1500],
    [2.5, 2.5],
  ])('takes the number %j as milliseconds', (value, expected) => {
    expect(parseDuration(value)).toBe(expected);
  });

  it.each<[string, number]>([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['1.5s', 1_500],
    [' 5m ', 300_000],
    ['5 m', 300_000],
    ['1500', 1_500],
  ])('parses the string %j', (value, expected) => {
    expect(parseDuration(value)).toBe(expected);
  });

  it.each<[Duration, number]>([
    [{ minutes: 5 }, 300_000],
    [{ hours: 1, minutes: 30 }, 5_400_000],
    [{ days: 1, hours: 2, minutes: 3, seconds: 4, milliseconds: 5 }, 93_784_005],
    [{ seconds: 1.5 }, 1_500],
    [{ milliseconds: 0 }, 0],
  ])('adds up the object %j', (value, expected) => {
    expect(parseDuration(value)).toBe(expected);
  });

  it.each<[string, unknown, RegExp]>([
    ['an empty string', '', /"" is not a duration/],
    ['a word', 'abc', /"abc" is not a duration/],
    ['an unknown unit', '5x', /"5x" is not a duration/],
    ['trailing garbage', '5m!', /"5m!" is not a duration/],
    ['a negative string', '-5m', /"-5m" is not a duration/],
    ['a negative number', -1, /non-negative/],
    ['NaN', Number.NaN, /non-negative/],
    ['Infinity', Number.POSITIVE_INFINITY, /non-negative/],
    ['an empty object', {}, /empty object/],
    ['an unknown object unit', { weeks: 1 }, /unknown duration unit "weeks"/],
    ['a negative object unit', { minutes: -1 }, /"minutes" must be a non-negative number/],
    ['a non-numeric object unit', { minutes: '5' }, /"minutes" must be a non-negative number/],
    ['an array', [5], /is not a duration/],
    ['null', null, /is not a duration/],
  ])('rejects %s with a TypeError', (_name, value, message) => {
    expect(() => parseDuration(value as Duration)).toThrow(TypeError);
    expect(() => parseDuration(value as Duration)).toThrow(message);
  });
});
