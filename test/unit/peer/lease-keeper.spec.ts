import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseKeeper, type LeaseKeeperOptions } from '../../../lib/peer/lease-keeper.js';
import { LocalNotifier } from '../../../lib/notifier/notifier.js';

const TTL = 3_000; // renewed every 1 s, believed for 2.5 s from each send

/** A store's lease as the keeper sees it: each take answers what `next` says, after `delay` ms. */
function fakeLease(): { take: LeaseKeeperOptions['take']; takes: number; next: () => Promise<string | null> } {
  const lease = {
    takes: 0,
    next: (): Promise<string | null> => Promise.resolve('7'),
    take: (): Promise<string | null> => {
      lease.takes++;
      return lease.next();
    },
  };
  return lease;
}

describe('LeaseKeeper', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('leads from its first take, renews every third of the TTL, and tells listeners once', async () => {
    const lease = fakeLease();
    const keeper = new LeaseKeeper({ now: Date.now, leaseTtl: TTL, take: () => lease.take() });
    const changes: boolean[] = [];
    keeper.onChange((leader) => changes.push(leader));
    await keeper.start();
    expect(keeper.isLeader()).toBe(true);
    expect(keeper.heldToken).toBe('7');
    await vi.advanceTimersByTimeAsync(3_500);
    expect(lease.takes).toBe(4);
    expect(keeper.isLeader()).toBe(true);
    expect(changes).toEqual([true]);
    expect(await keeper.stop()).toBe('7');
    expect(changes).toEqual([true, false]);
  });

  it('resigns when another node holds the lease, and by its deadline when renewals hang', async () => {
    const lease = fakeLease();
    const keeper = new LeaseKeeper({ now: Date.now, leaseTtl: TTL, take: () => lease.take(), bounded: false });
    await keeper.start();
    lease.next = () => Promise.resolve(null);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(keeper.isLeader()).toBe(false);

    lease.next = () => Promise.resolve('8');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(keeper.isLeader()).toBe(true);
    // A renewal that never answers (unbounded): the belief ends 2.5 s after the last good send, by the deadline timer.
    lease.next = () => new Promise(() => {});
    const changes: boolean[] = [];
    keeper.onChange((leader) => changes.push(leader));
    await vi.advanceTimersByTimeAsync(2_400);
    expect(keeper.isLeader()).toBe(true);
    await vi.advanceTimersByTimeAsync(200);
    expect(keeper.isLeader()).toBe(false);
    expect(changes).toEqual([false]);
  });

  it('gives a bounded take up after a renewal interval, calls `failed`, and tries again within a second', async () => {
    const lease = fakeLease();
    const failed = vi.fn();
    const keeper = new LeaseKeeper({ now: Date.now, leaseTtl: TTL, take: () => lease.take(), failed });
    await keeper.start();
    lease.next = () => new Promise(() => {});
    await vi.advanceTimersByTimeAsync(1_000 + 1_000);
    expect(failed).toHaveBeenCalledTimes(1);
    expect(keeper.isLeader()).toBe(false);
    lease.next = () => Promise.resolve('9');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(keeper.isLeader()).toBe(true);
    expect(keeper.heldToken).toBe('9');
    await keeper.stop();
  });

  it('does not believe a take that answered after its lease could have expired', async () => {
    const lease = fakeLease();
    lease.next = () => new Promise((resolve) => setTimeout(() => resolve('7'), 2_600));
    const keeper = new LeaseKeeper({ now: Date.now, leaseTtl: TTL, take: () => lease.take(), bounded: false });
    const started = keeper.start();
    await vi.advanceTimersByTimeAsync(2_600);
    await started;
    expect(keeper.isLeader()).toBe(false);
    await keeper.stop();
  });

  it('waits for readiness, and coalesces tries asked for while one is in flight', async () => {
    let ready = false;
    const lease = fakeLease();
    let answer: (token: string | null) => void = () => {};
    lease.next = () => new Promise((resolve) => (answer = resolve));
    const notifier = new LocalNotifier();
    const keeper = new LeaseKeeper({ now: Date.now, leaseTtl: TTL, take: () => lease.take(), ready: () => ready, notifier, bounded: false });
    await keeper.start();
    expect(lease.takes).toBe(0);
    ready = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(lease.takes).toBe(1);
    // Three released-lease messages while the take is in flight make one more take, at once after it.
    for (let i = 0; i < 3; i++) await notifier.notify({ type: 'leader' });
    answer(null);
    await vi.advanceTimersByTimeAsync(0);
    expect(lease.takes).toBe(2);
    answer('5');
    await vi.advanceTimersByTimeAsync(0);
    expect(keeper.isLeader()).toBe(true);
    await keeper.stop();
  });

  it('hands stop() the token of a lease taken while it was stopping, and leaves no timer', async () => {
    const lease = fakeLease();
    let answer: (token: string | null) => void = () => {};
    lease.next = () => new Promise((resolve) => (answer = resolve));
    const keeper = new LeaseKeeper({ now: Date.now, leaseTtl: TTL, take: () => lease.take(), bounded: false });
    void keeper.start();
    const stopped = keeper.stop();
    answer('11');
    expect(await stopped).toBe('11');
    expect(keeper.isLeader()).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
