import { describe, expect, it } from 'vitest';
import { LookAhead } from '../../../lib/queue/look-ahead.js';

describe('LookAhead', () => {
  it('starts at the concurrency (at most prefetch) and doubles while batches go fast, up to prefetch', () => {
    const look = new LookAhead(1000, 10);
    expect(look.next(1_000, 10)).toBe(10);
    look.claimed(1_000);
    const sizes = [];
    for (let t = 1_100; t < 1_800; t += 100) {
      sizes.push(look.next(t, 10));
      look.claimed(t);
    }
    expect(sizes).toEqual([20, 40, 80, 160, 320, 640, 1000]);
    expect(look.refillAt).toBe(500);
    expect(new LookAhead(4, 10).next(0, 10)).toBe(4);
  });

  it('keeps its size between 250 ms and 2 s, halves it after slow batches, never below the concurrency', () => {
    const look = new LookAhead(1000, 10);
    for (let t = 100; t <= 600; t += 100) {
      look.claimed(t);
      look.next(t + 50, 10);
    }
    expect(look.next(1_600, 10)).toBe(640);
    let t = 10_000;
    const sizes = [];
    for (let i = 0; i < 8; i++, t += 3_000) {
      look.claimed(t);
      sizes.push(look.next(t + 2_500, 10));
    }
    expect(sizes).toEqual([320, 160, 80, 40, 20, 10, 10, 10]);
    expect(look.refillAt).toBe(5);
  });
});
