import { describe, expect, it } from 'vitest';
import { ClaimCursor, compareClaimKeys } from '../../../lib/queue/claim-cursor.js';
import type { Job } from '../../../lib/store/job.types.js';

const job = (id: string, priority = 5, runAt = 1_000) => ({ id, priority, runAt: new Date(runAt) }) as Job<unknown>;

describe('ClaimCursor', () => {
  it('orders keys by priority, then runAt, then id as a number', () => {
    const sorted = [
      { priority: 1, runAt: 5, id: '10' },
      { priority: 0, runAt: 9, id: '1' },
      { priority: 1, runAt: 5, id: '9' },
      { priority: 1, runAt: 4, id: '99' },
    ].sort(compareClaimKeys);
    expect(sorted.map((k) => k.id)).toEqual(['1', '99', '9', '10']);
  });

  it('moves past the last job of a full claim, and drops itself after a short one', () => {
    const cursor = new ClaimCursor();
    expect(cursor.after).toBeUndefined();
    cursor.claimed([job('1'), job('2', 5, 2_000)], 2);
    expect(cursor.after).toEqual({ priority: 5, runAt: 2_000, id: '2' });
    cursor.claimed([job('3')], 2);
    expect(cursor.after).toBeUndefined();
    cursor.claimed([], 0);
    expect(cursor.after).toBeUndefined();
  });

  it('keeps itself for new work past it, and drops itself for work at or before it, or of unknown position', () => {
    const cursor = new ClaimCursor();
    const full = () => cursor.claimed([job('5', 5, 1_000)], 1);
    full();
    cursor.inserted({ priority: 5, runAt: 1_000, id: '6' });
    cursor.inserted({ priority: 6, runAt: 0, id: '2' });
    expect(cursor.after).toEqual({ priority: 5, runAt: 1_000, id: '5' });
    cursor.inserted({ priority: 4, runAt: 9_000, id: '7' });
    expect(cursor.after).toBeUndefined();
    full();
    cursor.inserted({ priority: 5, runAt: 999, id: '8' });
    expect(cursor.after).toBeUndefined();
    full();
    cursor.inserted();
    expect(cursor.after).toBeUndefined();
    full();
    cursor.reset();
    expect(cursor.after).toBeUndefined();
  });
});
