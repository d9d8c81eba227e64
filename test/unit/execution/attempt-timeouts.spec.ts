import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lib/testing/fake.clock.js';
import { AttemptTimeouts, type TimeoutEntry } from '../../../lib/execution/attempt-timeouts.js';

interface Entry extends TimeoutEntry {
  name: string;
}

const entry = (name: string): Entry => ({ name, timeoutAt: 0, timeoutPrev: null, timeoutNext: null, timeoutList: null });

function setUp() {
  const clock = new FakeClock(new Date('2026-03-01T12:00:00.000Z'));
  const fired: string[] = [];
  const timeouts = new AttemptTimeouts<Entry>(clock, (e) => fired.push(`${e.name}@${clock.now() - START}`));
  return { clock, fired, timeouts };
}
const START = new Date('2026-03-01T12:00:00.000Z').getTime();

describe('AttemptTimeouts', () => {
  it('fires each entry at its own time, on one timer per timeout length', async () => {
    const { clock, fired, timeouts } = setUp();
    timeouts.add(entry('a'), clock.now(), 1000);
    await clock.advance(300);
    timeouts.add(entry('b'), clock.now(), 1000);
    timeouts.add(entry('c'), clock.now(), 500);
    expect(clock.pendingTimers).toBe(2);
    await clock.advance(2000);
    expect(fired).toEqual(['c@800', 'a@1000', 'b@1300']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('skips a removed head and fires the next one at its time, not earlier', async () => {
    const { clock, fired, timeouts } = setUp();
    const a = entry('a');
    timeouts.add(a, clock.now(), 1000);
    await clock.advance(400);
    timeouts.add(entry('b'), clock.now(), 1000);
    timeouts.remove(a);
    await clock.advance(900);
    expect(fired).toEqual([]);
    await clock.advance(100);
    expect(fired).toEqual(['b@1400']);
  });

  it('clears its timer once nothing is armed, and a removed or fired entry can be armed again', async () => {
    const { clock, fired, timeouts } = setUp();
    const a = entry('a');
    timeouts.add(a, clock.now(), 1000);
    timeouts.remove(a);
    timeouts.remove(a);
    expect(clock.pendingTimers).toBe(0);
    timeouts.add(a, clock.now(), 1000);
    await clock.advance(1000);
    timeouts.add(a, clock.now(), 1000);
    await clock.advance(1000);
    expect(fired).toEqual(['a@1000', 'a@2000']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps time order for an entry armed from an earlier instant, and one armed from the fire callback', async () => {
    const { clock, fired } = setUp();
    const again = new AttemptTimeouts<Entry>(clock, (e) => {
      fired.push(`${e.name}@${clock.now() - START}`);
      if (e.name === 'late') again.add(entry('next'), clock.now(), 100);
    });
    again.add(entry('late'), clock.now() + 500, 1000);
    again.add(entry('early'), clock.now(), 1000);
    await clock.advance(2000);
    expect(fired).toEqual(['early@1000', 'late@1500', 'next@1600']);
  });
});
