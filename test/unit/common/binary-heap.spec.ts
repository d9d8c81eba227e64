import { describe, expect, it } from 'vitest';
import { BinaryHeap } from '../../../lib/common/binary-heap.js';

/** A small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const drain = <T>(heap: BinaryHeap<T>): T[] => {
  const out: T[] = [];
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) out.push(item);
  return out;
};

describe('BinaryHeap', () => {
  it('is empty at first', () => {
    const heap = new BinaryHeap<number>((a, b) => a - b);
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
  });

  it('pops in ascending order, duplicates included', () => {
    const heap = new BinaryHeap<number>((a, b) => a - b);
    for (const n of [5, 3, 8, 1, 9, 3, 7, 1, 0]) heap.push(n);
    expect(heap.size).toBe(9);
    expect(heap.peek()).toBe(0);
    expect(drain(heap)).toEqual([0, 1, 1, 3, 3, 5, 7, 8, 9]);
    expect(heap.size).toBe(0);
  });

  it('follows the comparator (a max-heap with a reversed one)', () => {
    const heap = new BinaryHeap<string>((a, b) => b.localeCompare(a));
    for (const s of ['b', 'd', 'a', 'c']) heap.push(s);
    expect(drain(heap)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('removes arbitrary items, unindexed', () => {
    const heap = new BinaryHeap<number>((a, b) => a - b);
    for (const n of [4, 2, 6, 1, 5, 3]) heap.push(n);
    expect(heap.remove(4)).toBe(true);
    expect(heap.remove(1)).toBe(true);
    expect(heap.remove(42)).toBe(false);
    expect(heap.has(2)).toBe(true);
    expect(heap.has(4)).toBe(false);
    expect(drain(heap)).toEqual([2, 3, 5, 6]);
  });

  it('removes objects by identity when indexed, and refuses duplicates', () => {
    const heap = new BinaryHeap<{ n: number }>((a, b) => a.n - b.n, { indexed: true });
    const items = [7, 3, 9, 1, 5].map((n) => ({ n }));
    for (const item of items) heap.push(item);
    expect(() => heap.push(items[0]!)).toThrow(TypeError);
    expect(heap.remove({ n: 3 })).toBe(false);
    expect(heap.remove(items[1]!)).toBe(true);
    expect(heap.has(items[1]!)).toBe(false);
    expect(heap.has(items[2]!)).toBe(true);
    expect(drain(heap).map((i) => i.n)).toEqual([1, 5, 7, 9]);
    heap.push(items[0]!);
    expect(heap.peek()).toBe(items[0]);
  });

  it('clears', () => {
    const heap = new BinaryHeap<{ n: number }>((a, b) => a.n - b.n, { indexed: true });
    const item = { n: 1 };
    heap.push(item);
    heap.push({ n: 2 });
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.has(item)).toBe(false);
    heap.push(item);
    expect(heap.toArray()).toEqual([item]);
  });

  it.each([false, true])('stays ordered under random pushes, pops and removes (indexed: %s)', (indexed) => {
    const next = random(indexed ? 7 : 11);
    const heap = new BinaryHeap<{ n: number }>((a, b) => a.n - b.n, { indexed });
    const model: { n: number }[] = [];
    for (let step = 0; step < 5_000; step++) {
      const r = next();
      if (r < 0.5) {
        const item = { n: Math.floor(next() * 100) };
        heap.push(item);
        model.push(item);
      } else if (r < 0.75) {
        const popped = heap.pop();
        const min = model.reduce<{ n: number } | undefined>((m, i) => (m === undefined || i.n < m.n ? i : m), undefined);
        expect(popped?.n).toBe(min?.n);
        if (popped) model.splice(model.indexOf(popped), 1);
      } else if (model.length > 0) {
        const victim = model[Math.floor(next() * model.length)]!;
        expect(heap.remove(victim)).toBe(true);
        model.splice(model.indexOf(victim), 1);
      }
      expect(heap.size).toBe(model.length);
    }
    expect(drain(heap).map((i) => i.n)).toEqual(model.map((i) => i.n).sort((a, b) => a - b));
  });

  it.each([false, true])("keeps order when most pushes come in order, past the run's compaction (own positions: %s)", (own) => {
    type Item = { n: number; pos: number };
    const next = random(own ? 3 : 5);
    const heap = new BinaryHeap<Item>((a, b) => a.n - b.n, {
      indexed: own ? { get: (item) => item.pos, set: (item, index) => void (item.pos = index) } : true,
    });
    const model = new Set<Item>();
    let counter = 0;
    for (let step = 0; step < 20_000; step++) {
      const r = next();
      if (r < 0.55) {
        // Mostly in order; now and then one that belongs earlier (into the heap part).
        const item = { n: next() < 0.9 ? counter++ : Math.floor(next() * counter), pos: -1 };
        heap.push(item);
        model.add(item);
      } else if (r < 0.9) {
        const popped = heap.pop();
        let min: Item | undefined;
        for (const item of model) if (min === undefined || item.n < min.n) min = item;
        expect(popped?.n).toBe(min?.n);
        if (popped) model.delete(popped);
      } else if (model.size > 0) {
        const victims = [...model];
        const victim = victims[Math.floor(next() * victims.length)]!;
        expect(heap.remove(victim)).toBe(true);
        expect(heap.has(victim)).toBe(false);
        expect(heap.remove(victim)).toBe(false);
        model.delete(victim);
      }
      expect(heap.size).toBe(model.size);
    }
    for (const item of model) expect(heap.has(item)).toBe(true);
    expect(heap.toArray().length).toBe(model.size);
    expect(drain(heap).map((i) => i.n)).toEqual([...model].map((i) => i.n).sort((a, b) => a - b));
  });

  it('takes in-order pushes through the run and still mixes in smaller ones', () => {
    const heap = new BinaryHeap<number>((a, b) => a - b);
    for (let n = 0; n < 3_000; n++) heap.push(n * 2);
    heap.push(5);
    heap.push(-1);
    expect(heap.peek()).toBe(-1);
    const out = drain(heap);
    expect(out.slice(0, 6)).toEqual([-1, 0, 2, 4, 5, 6]);
    expect(out.length).toBe(3_002);
    heap.push(1);
    expect(heap.toArray()).toEqual([1]);
  });

  it('keeps order when the last appended item is removed and comes back with a smaller key', () => {
    const key = new Map([
      ['a', 2],
      ['b', 60],
      ['c', 70],
    ]);
    for (const indexed of [true, false]) {
      const heap = new BinaryHeap<string>((x, y) => key.get(x)! - key.get(y)!, { indexed });
      for (const item of ['a', 'b', 'c']) heap.push(item);
      heap.remove('c');
      key.set('c', 1);
      heap.push('c');
      heap.remove('b');
      key.set('b', 0);
      heap.push('b');
      expect(drain(heap)).toEqual(['b', 'c', 'a']);
      key.set('c', 70);
      key.set('b', 60);
    }
  });
});
