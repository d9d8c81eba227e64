import { Injectable, Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, Scheduled, type JobContext } from '../../lib/index.js';
import { LocalNotifier, type JobStore } from '../../lib/store/index.js';
import { startApp } from '../support/app.js';
import { wedgeable } from '../support/wedgeable.store.js';
import { interceptedStore } from '../support/intercepted.store.js';

@Injectable()
class Work {
  finish = new Map<string, () => void>();
  @Scheduled({ name: 'work' })
  run(ctx: JobContext<{ id: string }>) {
    return new Promise<void>((resolve) => this.finish.set(ctx.args.id, resolve));
  }
}

/** Resolves once `resolve()` is called. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The store and notifier of one node (a bundle of the user's own, through
 * the store seam), writing down in `log`, in order, each heartbeat (`beat`),
 * each acknowledgement that landed (`ack`), the notifier's stop and the
 * store's close. The close waits until `close.open()`, so the test can let
 * time pass while it is under way; `close.begun` resolves as it begins.
 */
function recorded(inner: JobStore) {
  const log: string[] = [];
  const begun = deferred();
  const gate = deferred();
  const store = interceptedStore(inner, (key, method) => {
    const call = method as (...args: unknown[]) => Promise<unknown>;
    if (key === 'heartbeat') return (...args: unknown[]) => (log.push('beat'), call(...args));
    if (key === 'complete') return async (...args: unknown[]) => (await call(...args), log.push('ack'));
    if (key === 'close') {
      return async () => {
        log.push('store:close');
        begun.resolve();
        await gate.promise;
        await call();
      };
    }
    return undefined;
  });
  class Notifier extends LocalNotifier {
    override async stop(): Promise<void> {
      log.push('notifier:stop');
      await super.stop();
    }
  }
  return { log, option: { store, peer: 'local' as const, notifier: new Notifier() }, close: { begun: begun.promise, open: gate.resolve } };
}

/** Step 7 of the drain (docs/guarantees.md, "A node that drains"): heartbeats stop, then the notifier and the store close, after the handlers and acks. */
describe('shutdown: what stops last', () => {
  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  it('heartbeats go on while the handler runs; its ack lands, then the notifier stops, then the store closes', async () => {
    const node = recorded(new MemoryStore());
    const t = await startApp([Work], { store: node.option, lifeline: { heartbeat: '5s' }, shutdownGracePeriod: '1m' });
    await t.scheduler.enqueue('work', { id: 'a' });
    await t.clock.advance(0);
    node.log.push('app:close');
    const closing = t.close();
    // Drain step 4: half the grace period, a heartbeat every 5 s.
    for (let i = 0; i < 6; i++) await t.clock.advance('5s');
    t.get(Work).finish.get('a')!();
    await node.close.begun;
    // The store's close under way: a minute passes, and nothing writes to it.
    await t.clock.advance('1m');
    node.close.open();
    await closing;
    expect(node.log).toEqual(['app:close', ...Array<string>(6).fill('beat'), 'ack', 'notifier:stop', 'store:close']);
  });

  it('an ack the store never takes: heartbeats go on until the drain gives up on it, and stop before the store closes', async () => {
    const wedge = wedgeable();
    const node = recorded(wedge.option.store);
    const t = await startApp([Work], { store: node.option, lifeline: { heartbeat: '1s' } });
    await t.scheduler.enqueue('work', { id: 'a' });
    await t.clock.advance(0);
    wedge.hang.complete = true;
    node.log.push('app:close');
    const closing = t.close();
    t.get(Work).finish.get('a')!();
    // Its ack is waited for 5 s (ACK_GRACE): the attempt is still owned here, and beaten for.
    for (let i = 0; i < 5; i++) await t.clock.advance('1s');
    await node.close.begun;
    // Still owned, it would be beaten for every second were the heartbeat not stopped: a minute passes while the store closes.
    await t.clock.advance('1m');
    node.close.open();
    await closing;
    expect(node.log).toEqual(['app:close', ...Array<string>(4).fill('beat'), 'notifier:stop', 'store:close']);
    wedge.release();
  });
});
