import { describe, expect, it } from 'vitest';
import { StoreContact } from '../../../lib/plugins/store-contact.js';

const R = 40_000;

/** A contact on a clock the test moves, and calls it settles by hand. */
function setup() {
  let t = 1_000_000;
  const contact = new StoreContact(() => t, R);
  const call = (answers = true) => {
    let settle!: (ok: boolean) => void;
    const done = contact
      .watch(() => new Promise<void>((resolve, reject) => (settle = (ok) => (ok ? resolve() : reject(new Error('unreachable'))))), answers)
      .catch(() => undefined);
    return async (ok = true) => {
      settle(ok);
      await done;
    };
  };
  /** A call answered at once. */
  const answer = (answers = true) => call(answers)(true);
  const fail = () => call()(false);
  return { contact, call, answer, fail, at: () => t, move: (ms: number) => (t += ms) };
}

describe('StoreContact', () => {
  it('with the store answering, a heartbeat older than rescueAfter is old enough', async () => {
    const { contact, answer, at, move } = setup();
    await answer();
    move(10_000);
    await answer();
    expect(contact.rescueBefore(at())).toBe(at() - R);
    expect(contact.graceUntil(at())).toBeNull();
  });

  it('a clock moved far forward with no call under way is not an outage', async () => {
    const { contact, answer, at, move } = setup();
    await answer();
    move(10 * R);
    await answer();
    expect(contact.rescueBefore(at())).toBe(at() - R);
  });

  it('after failures for longer than rescueAfter / 2: rescues only what had stopped before the outage, for rescueAfter from the first answer', async () => {
    const { contact, answer, fail, at, move } = setup();
    await answer();
    const lastGood = at();
    move(5_000);
    await fail();
    move(R / 2);
    expect(contact.rescueBefore(at())).toBe(at() - R); // R / 2 exactly: not yet
    move(1);
    expect(contact.rescueBefore(at())).toBeNull(); // under way: nothing is rescued
    move(30_000);
    await fail();
    await answer();
    const back = at();
    expect(contact.graceUntil(at())).toBe(back + R);
    expect(contact.rescueBefore(at())).toBe(lastGood - R);
    move(R - 1);
    await answer();
    expect(contact.rescueBefore(at())).toBe(lastGood - R);
    move(1);
    expect(contact.rescueBefore(at())).toBe(at() - R);
    expect(contact.graceUntil(at())).toBeNull();
  });

  it('a failure answered again within rescueAfter / 2 is no outage', async () => {
    const { contact, answer, fail, at, move } = setup();
    await answer();
    await fail();
    move(R / 2);
    await answer();
    expect(contact.rescueBefore(at())).toBe(at() - R);
  });

  it('a call unanswered for longer than rescueAfter / 2 (an offline queue, a silent socket) is an outage until it answers', async () => {
    const { contact, answer, call, at, move } = setup();
    await answer();
    const lastGood = at();
    move(1_000);
    const stuck = call();
    move(R / 2 + 1);
    expect(contact.rescueBefore(at())).toBeNull();
    move(10_000);
    await stuck();
    expect(contact.rescueBefore(at())).toBe(lastGood - R);
    expect(contact.graceUntil(at())).toBe(at() + R);
  });

  it('a quick answer meanwhile does not end an outage that a stuck call shows', async () => {
    const { contact, answer, call, at, move } = setup();
    await answer();
    const lastGood = at();
    const stuck = call();
    move(R);
    await answer();
    expect(contact.rescueBefore(at())).toBeNull();
    await stuck();
    expect(contact.rescueBefore(at())).toBe(lastGood - R);
  });

  it('work that may not touch the store tells only by failing or by being slow', async () => {
    const { contact, answer, call, fail, at, move } = setup();
    await answer();
    const lastGood = at();
    await fail();
    move(R);
    await call(false)(); // quick: says nothing of the store
    expect(contact.rescueBefore(at())).toBeNull();
    const task = call(false);
    move(R);
    await task(); // stuck behind the store, then done: the store answered
    expect(contact.rescueBefore(at())).toBe(lastGood - R);
  });

  it('a node that never reached the store before the outage rescues nothing during the grace', async () => {
    const { contact, answer, fail, at, move } = setup();
    await fail();
    move(R);
    await answer();
    expect(contact.rescueBefore(at())).toBeNull();
    move(R);
    expect(contact.rescueBefore(at())).toBe(at() - R);
  });

  it('a timer of this process that fires over rescueAfter / 2 late (the process stopped, the machine asleep) is an outage from the last answer before it', async () => {
    const { contact, answer, at, move } = setup();
    await answer();
    const lastGood = at();
    const due = at() + 500;
    move(R / 2 + 500);
    contact.stalled(due); // R / 2 late exactly: a slow turn, not a stall
    expect(contact.rescueBefore(at())).toBe(at() - R);
    move(1);
    contact.stalled(due);
    expect(contact.rescueBefore(at())).toBe(lastGood - R);
    expect(contact.graceUntil(at())).toBe(at() + R);
    move(R);
    expect(contact.rescueBefore(at())).toBe(at() - R);
  });

  it('a stall during an outage under way keeps the outage going, and its start', async () => {
    const { contact, answer, fail, at, move } = setup();
    await answer();
    const lastGood = at();
    move(1_000);
    await fail();
    const due = at();
    move(R);
    contact.stalled(due);
    expect(contact.rescueBefore(at())).toBeNull(); // the store has not answered since the failure
    await answer();
    expect(contact.rescueBefore(at())).toBe(lastGood - R);
  });

  it("an outage that begins within the last one's grace keeps the first one's start", async () => {
    const { contact, answer, fail, at, move } = setup();
    await answer();
    const firstGood = at();
    await fail();
    move(R);
    await answer();
    move(R / 2);
    await answer();
    await fail();
    move(R);
    await answer();
    expect(contact.rescueBefore(at())).toBe(firstGood - R);
    expect(contact.graceUntil(at())).toBe(at() + R);
  });
});
