import { shown } from '../../lib/common/shown.js';

/**
 * What a caller in plain JavaScript, a request body passed through or an
 * options object built from unchecked input may hand where any argument or
 * option goes: wrong types, values JSON cannot hold, text no store can keep,
 * numbers that are not counts, strings that look like numbers.
 */
export const BAD_VALUES: readonly unknown[] = [
  null,
  '',
  ' ',
  'x'.repeat(5_000),
  '\u0000',
  '\ud800',
  42,
  -1,
  1.5,
  NaN,
  Infinity,
  {},
  [],
  () => 1,
  10n,
  new Date(NaN),
  Symbol('s'),
  '12abc',
  '-5',
  '99999999999999999999999',
  true,
];

/** A bad value as a failure list names it (short). */
export const labelOf = (value: unknown): string => shown(value).slice(0, 24);
