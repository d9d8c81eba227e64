import { Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import type { Clock, TimerHandle } from '../../../lib/clock/clock.js';
import { SchedulerLoop } from '../../../lib/planner/scheduler.loop.js';
import { LifelinePlugin } from '../../../lib/plugins/lifeline.plugin.js';
import { NodeBeatPlugin } from '../../../lib/plugins/node-beat.plugin.js';
import { StoreContact } from '../../../lib/plugins/store-contact.js';

/** A lifeline over a store that records the cut-offs it is asked to rescue by (0: a pass that rescues nothing, during an outage). */
function lifeline(contact: StoreContact, rescue: (before: Date) => Promise<[]> = () => Promise.resolve([])) {
  const asked: number[] = [];
  const plugin = new LifelinePlugin({
    store: { rescue: (before) => (asked.push(before.getTime()), rescue(before)) },
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
    const during = plugin.checkNow(t);
    expect(await during).toEqual([]);
    expect(asked).toEqual([90_000, 0]); // the store has been silent for over rescueAfter / 2: a pass that rescues nothing
    await stuck; // the task stuck behind the store is done: the store is back
    await plugin.checkNow(t);
    expect(asked[2]).toBe(90_000); // the last answer before the outage, less rescueAfter
    expect(warn.mock.calls.map(([message]) => String(message))).toEqual([expect.stringContaining('the store was out of reach')]);
    await plugin.checkNow(t + 10_000);
    expect(asked[3]).toBe(t);
    warn.mockRestore();
  });

  it("a lock on the jobs' table alone is an outage: the nodes' table answering meanwhile does not end it, the jobs' table answering does", async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    let t = 100_000;
    let locked = false;
    const contact = new StoreContact(() => t, 10_000);
    const { plugin, asked } = lifeline(contact, () => (locked ? Promise.reject(new Error('lock_timeout')) : Promise.resolve([])));
    const nodes = new NodeBeatPlugin({
      registry: { beat: () => Promise.resolve(), remove: () => Promise.resolve(), list: () => Promise.resolve([]) },
      node: 'n1',
      version: '1',
      interval: 1_000,
      ttl: 30_000,
      queues: () => ({}),
      contact,
    });
    await plugin.checkNow(t);
    locked = true;
    t += 1_000;
    await expect(plugin.checkNow(t)).rejects.toThrow('lock_timeout');
    for (let i = 0; i < 8; i++) {
      t += 1_000;
      await nodes.tasks()[0]!.run(t);
      await new Promise((resolve) => setImmediate(resolve)); // the beat, not waited for by the loop: the nodes' table answers all along
    }
    await plugin.checkNow(t).catch(() => undefined);
    expect(asked.slice(2)).toEqual([0]); // 8 s after the jobs' first failure: an outage, so nothing by age
    locked = false;
    await plugin.checkNow(t); // the jobs' table answers: the outage is over, with its grace
    await plugin.checkNow(t);
    expect(asked.slice(3)).toEqual([0, 90_000]); // only what had stopped rescueAfter before the jobs' last answer before it (100 s)
    warn.mockRestore();
  });

  it('a leader whose process stood still (stopped holding the SQLite write lock) rescues after it only what had stopped before it', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // A clock whose timers fire only when told, at whatever time it is then: late after a stall.
    let t = 100_000;
    const timers = new Map<TimerHandle, { at: number; callback: () => void }>();
    let seq = 0;
    const clock: Clock = {
      now: () => t,
      setTimeout: (callback, ms) => (timers.set(++seq, { at: t + ms, callback }), seq),
      clearTimeout: (handle) => void timers.delete(handle),
    };
    const fireDue = async () => {
      // A copy: a callback arms the loop's next timer, fired on a later call.
      for (const [handle, timer] of Array.from(timers)) {
        if (timer.at > t) continue;
        timers.delete(handle);
        timer.callback();
      }
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const contact = new StoreContact(() => t, 10_000);
    const loop = new SchedulerLoop(
      clock,
      (run) => contact.watch(run, false),
      (dueAt) => contact.stalled(dueAt),
    );
    const { plugin, asked } = lifeline(contact);
    for (const task of plugin.tasks()) loop.add(task);
    loop.start();
    for (let i = 0; i < 3; i++) {
      t += 1_000;
      await fireDue();
    }
    expect(asked).toEqual([91_000, 92_000, 93_000]); // by age, every second
    // Stopped (SIGSTOP) for 15 s, with no call of its own under way; nobody else could beat meanwhile.
    t += 15_000;
    await fireDue();
    // Only what had stopped rescueAfter before the last answer before the stall (103 s): not every heartbeat of the last 15 s.
    expect(asked.at(-1)).toBe(93_000);
    expect(warn.mock.calls.map(([message]) => String(message))).toEqual([expect.stringContaining('the store was out of reach')]);
    for (let i = 0; i < 10; i++) {
      t += 1_000;
      await fireDue();
    }
    expect(asked.at(-1)).toBe(t - 10_000); // the grace is over: by age again
    await loop.stop();
    warn.mockRestore();
  });
});
