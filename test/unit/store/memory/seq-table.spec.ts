import { describe, expect, it } from 'vitest';
import { SeqTable } from '../../../../lib/store/memory/seq-table.js';

/** A small deterministic generator (no Math.random: a failure must replay). */
function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe('SeqTable', () => {
  it('answers nothing for numbers no value has: NaN, fractions, negatives, gaps', () => {
    const table = new SeqTable<string>();
    table.set(1, 'a');
    table.set(40, 'b');
    for (const seq of [Number.NaN, 1.5, -1, 0, 2, 39, 41, Infinity]) expect(table.get(seq)).toBeUndefined();
    expect([table.get(1), table.get(40), table.size]).toEqual(['a', 'b', 2]);
  });

  it('replaces a value in place, keeping number order, and drops emptied pages', () => {
    const table = new SeqTable<string>();
    for (let seq = 1; seq <= 100; seq++) table.set(seq, `live ${seq}`);
    table.set(50, 'finished 50');
    for (let seq = 1; seq <= 100; seq++) if (seq !== 50 && seq % 7 !== 0) table.delete(seq);
    expect(table.delete(3)).toBe(false);
    expect([...table.values()]).toEqual([
      'live 7',
      'live 14',
      'live 21',
      'live 28',
      'live 35',
      'live 42',
      'live 49',
      'finished 50',
      'live 56',
      'live 63',
      'live 70',
      'live 77',
      'live 84',
      'live 91',
      'live 98',
    ]);
    for (const seq of [7, 14, 21, 28, 35, 42, 49, 50, 56, 63, 70, 77, 84, 91, 98]) table.delete(seq);
    expect([table.size, [...table.values()]]).toEqual([0, []]);
    table.set(101, 'after');
    expect([table.get(101), table.get(100), [...table.values()]]).toEqual(['after', undefined, ['after']]);
  });

  it('agrees with a Map through random sets and deletes across pages', () => {
    const table = new SeqTable<number>();
    const model = new Map<number, number>();
    const random = lcg(11);
    let next = 1;
    for (let step = 0; step < 20_000; step++) {
      const r = random();
      if (r < 0.45) {
        model.set(next, step);
        table.set(next++, step);
      } else if (r < 0.6 && model.size > 0) {
        // A value replaced: a job that finished.
        const seq = 1 + Math.floor(random() * (next - 1));
        if (model.has(seq)) {
          model.set(seq, -step);
          table.set(seq, -step);
        }
      } else {
        const seq = 1 + Math.floor(random() * (next - 1));
        expect(table.delete(seq)).toBe(model.delete(seq));
      }
      const probe = 1 + Math.floor(random() * next);
      expect(table.get(probe)).toBe(model.get(probe));
    }
    expect(table.size).toBe(model.size);
    expect([...table.values()]).toEqual([...model.keys()].sort((a, b) => a - b).map((seq) => model.get(seq)));
  });
});
