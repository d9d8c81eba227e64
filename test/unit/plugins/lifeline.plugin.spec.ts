import { Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { LifelinePlugin } from '../../../lib/plugins/lifeline.plugin.js';
import { StoreContact } from '../../../lib/plugins/store-contact.js';

/** A lifeline over a store that records the cut-offs it is asked to rescue by. */
function lifeline(contact: StoreContact) {
  const asked: number[] = [];
  const plugin = new LifelinePlugin({
    store: { rescue: (before) => (asked.push(before.getTime()), Promise.resolve([])) },
    events: { emit: () => undefined },
    isLeader: () => true,
    wake: () => undefined,
    interval: 1_000,
    contact,
  });
  return { plugin, asked };
}

describe('LifelinePlugin', () => {
  it('rescues by the cut-off the store contact allows: by age, none while an outage lasts, then what had stopped before it', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    let t = 100_000;
    const contact = new StoreContact(() => t, 10_000);
    const { plugin, asked } = lifeline(contact);
    await plugin.checkNow(t);
    expect(asked).toEqual([90_000]);

    const stuck = contact.watch(() => new Promise<void>((resolve) => setTimeout(resolve, 0)), false);
    t += 6_000;
    await plugin.checkNow(t);
    expect(asked).toHaveLength(1); // the store has been silent for over rescueAfter / 2: nothing is rescued
    await stuck; // the task stuck behind the store is done: the store is back
    await plugin.checkNow(t);
    expect(asked[1]).toBe(90_000); // the last answer before the outage, less rescueAfter
    expect(warn.mock.calls.map(([message]) => String(message))).toEqual([expect.stringContaining('the store was out of reach')]);
    await plugin.checkNow(t + 10_000);
    expect(asked[2]).toBe(t);
    warn.mockRestore();
  });
});
