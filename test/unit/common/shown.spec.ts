import { describe, expect, it } from 'vitest';
import { shown } from '../../../lib/common/shown.js';

describe('shown', () => {
  it('is the JSON text of what has one, as error messages showed it', () => {
    expect([shown('a'), shown(42), shown(null), shown([1, 'b']), shown({ a: 1 }), shown(NaN)]).toEqual(['"a"', '42', 'null', '[1,"b"]', '{"a":1}', 'null']);
  });

  it('describes, without throwing, what JSON has no text for or cannot hold', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect([shown(undefined), shown(10n), shown(Symbol('s')), shown(() => 1), shown(cycle), shown([10n])]).toEqual([
      'undefined',
      '10n',
      'Symbol(s)',
      'a function',
      'an object that JSON cannot hold',
      'a list that JSON cannot hold',
    ]);
  });
});
