import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { IncompleteStoreError, MemoryStore, Scheduled, SchedulerConfigError } from '../../lib/index.js';
import { LocalNotifier, type JobStore, type Notification, type Notifier, type Peer, type StoreContext } from '../../lib/store/index.js';
import { bootstrapError, startApp, type TestApp } from '../support/app.js';
import { interceptedStore } from '../support/intercepted.store.js';

@Injectable()
class Jobs {
  runs = 0;
  @Scheduled({ every: '1m', name: 'tick' })
  tick() {
    this.runs++;
  }
}

/** A store that is not a MemoryStore to the scheduler (as a user's own engine would be), backed by one. */
function foreignStore(): JobStore {
  const inner = new MemoryStore();
  return interceptedStore(inner, () => undefined);
}

/** A peer that never leads: another node holds the lease. */
class FollowerPeer implements Peer {
  constructor(readonly context: StoreContext) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  isLeader(): boolean {
    return false;
  }
  async leaderNode(): Promise<string | null> {
    return 'another-node';
  }
  onChange(): void {}
}

/** Delivers like LocalNotifier, keeps what was sent, and says it reaches other processes (so cluster messages are sent). */
class RecordingNotifier implements Notifier {
  readonly shared = true;
  readonly sent: Notification[] = [];
  private readonly local = new LocalNotifier();
  start = () => this.local.start();
  stop = () => this.local.stop();
  subscribe = (listener: (message: Notification) => void) => this.local.subscribe(listener);
  async notify(message: Notification): Promise<void> {
    this.sent.push(message);
    return this.local.notify(message);
  }
}

describe('the store option: a store comes with its peer and notifier', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('refuses a store alone at bootstrap, saying what to supply', async () => {
    const error = await bootstrapError([Jobs], { store: foreignStore() as never });
    expect(error).toBeInstanceOf(IncompleteStoreError);
    expect(error).toBeInstanceOf(SchedulerConfigError);
    expect(error).toMatchObject({ option: 'store', missing: ['peer', 'notifier'] });
    expect((error as Error).message).toContain("{ store, peer: 'local', notifier: 'local' }");
  });

  it('refuses a bundle without a notifier, from an object or a factory', async () => {
    const store = foreignStore();
    const fromObject = await bootstrapError([Jobs], { store: { store, peer: 'local' } as never });
    expect(fromObject).toMatchObject({ name: 'IncompleteStoreError', missing: ['notifier'] });
    const fromFactory = await bootstrapError([Jobs], { store: ((context: StoreContext) => ({ store, peer: new FollowerPeer(context) })) as never });
    expect(fromFactory).toMatchObject({ name: 'IncompleteStoreError', missing: ['notifier'] });
  });

  it("runs a store declared single-process with 'local': this node leads and plans ticks", async () => {
    t = await startApp([Jobs], { store: { store: foreignStore(), peer: 'local', notifier: 'local' } });
    expect(t.scheduler.isLeader()).toBe(true);
    await t.clock.advance('1m');
    await t.tester.drainQueue();
    expect(t.get(Jobs).runs).toBe(1);
  });

  it('uses the peer and notifier a factory brings: a follower plans nothing, and cluster messages go through the notifier', async () => {
    const notifier = new RecordingNotifier();
    let given: StoreContext | undefined;
    t = await startApp([Jobs], {
      nodeName: 'node-a',
      store: (context) => {
        given = context;
        return { store: foreignStore(), peer: new FollowerPeer(context), notifier };
      },
    });
    expect(given).toMatchObject({ node: 'node-a', peerEligible: true });
    expect(t.scheduler.isLeader()).toBe(false);
    expect(await t.scheduler.leaderNode()).toBe('another-node');
    await t.clock.advance('3m');
    await t.tester.drainQueue();
    expect(t.get(Jobs).runs).toBe(0);
    await t.scheduler.pauseQueue('default');
    expect(notifier.sent).toContainEqual({ type: 'queues' });
    await t.scheduler.resumeQueue('default');
    await t.scheduler.enqueue('tick');
    await t.tester.drainQueue();
    expect(t.get(Jobs).runs).toBe(1);
  });

  it('keeps a MemoryStore instance on its own: the memory store is single-process by nature', async () => {
    const store = new MemoryStore();
    t = await startApp([Jobs], { store });
    expect(t.scheduler.isLeader()).toBe(true);
    await t.scheduler.enqueue('tick');
    expect(await store.count({ name: 'tick' })).toBe(1);
  });
});
