import { describe, expect, it } from 'vitest';
import { PushOffer } from '../../../lib/queue/push-offer.js';
import type { JobPush } from '../../../lib/store/job-store.js';

/** A store's push that records each offer written (`fail`: the next write fails, perhaps after landing). */
function push() {
  const writes: number[] = [];
  const state = { fail: false };
  const port = {
    offer: async (_queue: string, _node: string, slots: number) => {
      writes.push(slots);
      if (state.fail) {
        state.fail = false;
        throw new Error('connection lost');
      }
      return slots;
    },
  } as unknown as JobPush;
  return { port, writes, state };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PushOffer', () => {
  it('offers the free slots of an idle runner, and withdraws them once none is free', async () => {
    const { port, writes } = push();
    const offer = new PushOffer(port, 'default', 'a');
    offer.update(2, true);
    await settle();
    offer.update(2, true);
    offer.update(0, false);
    await settle();
    expect(writes).toEqual([2, 0]);
  });

  it('after a gap in LISTEN (forget), a busy runner withdraws the offer the store may have kept', async () => {
    const { port, writes } = push();
    const offer = new PushOffer(port, 'default', 'a');
    offer.update(1, true);
    await settle();
    offer.forget();
    offer.update(0, false);
    await settle();
    expect(writes).toEqual([1, 0]);
  });

  it('after a write that failed (it may have landed), a busy runner withdraws, an idle one offers again', async () => {
    const { port, writes, state } = push();
    const offer = new PushOffer(port, 'default', 'a');
    state.fail = true;
    offer.update(1, true);
    await settle();
    offer.update(0, false);
    await settle();
    offer.update(1, true);
    await settle();
    expect(writes).toEqual([1, 0, 1]);
  });
});
