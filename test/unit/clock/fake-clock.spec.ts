import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lib/testing/index.js';

describe('FakeClock.dueTimers', () => {
  it('counts the timers armed at or before now (after an advance returned) until an advance fires them', async () => {
    const clock = new FakeClock(new Date('2026-01-01T00:00:00Z'));
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('later'), 60_000);
    expect([clock.pendingTimers, clock.dueTimers]).toEqual([1, 0]);

    await clock.advance('10s');
    // Work that answered after the advance (a store round trip) arms a timer for now: due, not fired.
    clock.setTimeout(() => fired.push('now'), 0);
    expect([clock.pendingTimers, clock.dueTimers, fired]).toEqual([2, 1, []]);

    await clock.advance(0);
    expect([clock.pendingTimers, clock.dueTimers, fired]).toEqual([1, 0, ['now']]);
    await clock.advance('50s');
    expect([clock.pendingTimers, clock.dueTimers, fired]).toEqual([0, 0, ['now', 'later']]);
  });
});
