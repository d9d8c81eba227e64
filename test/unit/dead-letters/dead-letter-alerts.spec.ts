import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadLetterAlertsPlugin, DEAD_LETTER_ALERT_LEASE } from '../../../lib/dead-letters/dead-letter.alerts.js';
import { resolveDeadLetterOptions, DEAD_LETTER_ALERT_TRIES } from '../../../lib/dead-letters/dead-letter.options.js';
import type { DeadLetter } from '../../../lib/dead-letters/dead-letter.entry.js';
import { SchedulerConfigError } from '../../../lib/scheduler.errors.js';
import { MemoryStore } from '../../../lib/store/memory.store.js';
import { FakeClock } from '../../../lib/testing/index.js';
import { newJobInput } from '../../support/new-job.js';

const T0 = new Date('2026-01-01T00:00:00Z');

describe('DeadLetterAlertsPlugin', () => {
  let store: MemoryStore;
  let clock: FakeClock;
  beforeEach(() => {
    store = new MemoryStore();
    clock = new FakeClock(T0);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  const die = async (errorClass?: 'terminal') => {
    const job = (await store.insert([newJobInput(T0, { maxAttempts: 1 })]))[0]!.job;
    await store.claim({ queue: 'default', limit: 1, node: 'n', now: T0, ids: [job.id] });
    const error = { attempt: 1, at: T0, name: 'Error', message: 'boom', kind: 'error', ...(errorClass ? { errorClass } : {}) };
    await store.fail({ id: job.id, attempt: 1 }, 'dead', error, T0);
    return job.id;
  };

  it('hands each dead letter to the handler once, as an entry', async () => {
    const seen: DeadLetter<unknown>[] = [];
    const plugin = new DeadLetterAlertsPlugin({
      store,
      clock,
      interval: 1000,
      shutdownGracePeriod: 1000,
      handler: { handle: (entry) => void seen.push(entry) },
    });
    const id = await die('terminal');
    await plugin.kick();
    await plugin.kick();
    expect(seen.map((e) => [e.id, e.errorClass, e.attempts, e.lastFailedAt.getTime()])).toEqual([[id, 'terminal', 1, T0.getTime()]]);
  });

  it('retries a handler that throws after 10 s, doubling, and gives up after the last try', async () => {
    const calls: number[] = [];
    const handler = {
      handle: () => {
        calls.push(clock.now() - T0.getTime());
        throw new Error('pager down');
      },
    };
    const plugin = new DeadLetterAlertsPlugin({ store, clock, interval: 1000, shutdownGracePeriod: 1000, handler });
    await die();
    for (let second = 0; second <= 600; second++) {
      await plugin.kick();
      await clock.advance(1000);
    }
    expect(calls).toEqual([0, 10_000, 30_000, 70_000, 150_000].slice(0, DEAD_LETTER_ALERT_TRIES));
  });

  it('a handler that never returns holds the alert only for the lease', async () => {
    let calls = 0;
    const plugin = new DeadLetterAlertsPlugin({
      store,
      clock,
      interval: 1000,
      shutdownGracePeriod: 1000,
      handler: {
        handle: () => {
          calls++;
        },
      },
    });
    await die();
    // Another node took it and died mid-handle: the lease runs out, then it is handed out again.
    await store.takeDeadAlerts(new Date(clock.now()), DEAD_LETTER_ALERT_LEASE, 10);
    await plugin.kick();
    expect(calls).toBe(0);
    await clock.advance(DEAD_LETTER_ALERT_LEASE);
    await plugin.kick();
    expect(calls).toBe(1);
  });
});

describe('DeadLetterAlertsPlugin.stop', () => {
  it('takes no more alerts and waits for a running handler at most the grace period', async () => {
    const store = new MemoryStore();
    const clock = new FakeClock(T0);
    let calls = 0;
    const handler = {
      handle: () =>
        new Promise<void>(() => {
          calls++;
        }),
    };
    const plugin = new DeadLetterAlertsPlugin({ store, clock, interval: 1000, shutdownGracePeriod: 5000, handler });
    for (const n of [1, 2]) {
      const job = (await store.insert([newJobInput(T0, { maxAttempts: 1, args: { n } })]))[0]!.job;
      await store.claim({ queue: 'default', limit: 1, node: 'n', now: T0, ids: [job.id] });
      await store.fail({ id: job.id, attempt: 1 }, 'dead', { attempt: 1, at: T0, name: 'Error', message: 'boom', kind: 'error' }, T0);
    }
    void plugin.kick();
    await clock.advance(0);
    expect(calls).toBe(1);
    let stopped = false;
    const stopping = plugin.stop().then(() => (stopped = true));
    await clock.advance(4999);
    expect(stopped).toBe(false);
    await clock.advance(1);
    await stopping;
    await plugin.kick();
    expect(calls).toBe(1);
  });
});

describe('resolveDeadLetterOptions', () => {
  it('defaults to 30 days and 10,000 entries; retention.dead sets maxAge when it is not given', () => {
    expect(resolveDeadLetterOptions(undefined, undefined)).toEqual({ maxAge: 30 * 86_400_000, maxEntries: 10_000, onDeadLetter: null });
    expect(resolveDeadLetterOptions(undefined, '7d').maxAge).toBe(7 * 86_400_000);
    expect(resolveDeadLetterOptions({ maxAge: false, maxEntries: false }, undefined)).toMatchObject({ maxAge: null, maxEntries: null });
    expect(() => resolveDeadLetterOptions({ maxAge: '1d' }, '7d')).toThrow(SchedulerConfigError);
    expect(() => resolveDeadLetterOptions({ maxEntries: 1.5 }, undefined)).toThrow(SchedulerConfigError);
    expect(() => resolveDeadLetterOptions(undefined, 'soon')).toThrow(/retention\.dead/);
  });
});
