import { describe, expect, it } from 'vitest';
import { exponentialBackoff } from '../../../lib/index.js';

describe('exponentialBackoff', () => {
  it('doubles from the base and caps at max, without jitter', () => {
    const noJitter = (attempt: number) => exponentialBackoff(attempt, { base: 1_000, max: 10_000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(noJitter)).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });

  it('spreads by ±jitter and never exceeds max', () => {
    expect(exponentialBackoff(3, { jitter: 0.2 }, () => 0)).toBe(3_200);
    expect(exponentialBackoff(3, { jitter: 0.2 }, () => 1)).toBe(4_800);
    expect(exponentialBackoff(40, {}, () => 1)).toBe(3_600_000);
  });

  it('treats attempts below 1 as the first', () => {
    expect(exponentialBackoff(0, { jitter: 0 })).toBe(1_000);
  });
});
