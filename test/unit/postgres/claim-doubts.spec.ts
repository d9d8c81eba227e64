import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { ClaimsInDoubt } from '../../../lib/postgres/postgres.claim-doubts.js';

describe('ClaimsInDoubt', () => {
  it('hands each claim back until a hand-back starts after its statement can no longer be running', async () => {
    const handed: string[] = [];
    const doubts = new ClaimsInDoubt(async (token) => void handed.push(token), 30_000);
    await doubts.lost([
      ['recent', performance.now()],
      ['old', performance.now() - 30_001],
    ]);
    expect(handed).toEqual(['recent', 'old']);
    expect(doubts.size).toBe(1); // 'recent' may still be committing on the server: looked at again
    await doubts.settle();
    expect(handed).toEqual(['recent', 'old', 'recent']);
  });

  it('a hand-back that fails keeps its claim, and settle never rejects', async () => {
    let reachable = false;
    const doubts = new ClaimsInDoubt(async () => {
      if (!reachable) throw new Error('unreachable');
    }, 0);
    await expect(doubts.lost([['a', performance.now() - 1]])).resolves.toBeUndefined();
    expect(doubts.size).toBe(1);
    reachable = true;
    await doubts.settle();
    expect(doubts.size).toBe(0);
  });
});
