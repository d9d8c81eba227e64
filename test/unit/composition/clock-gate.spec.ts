import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UNMEASURED_GIVE_UP } from '../../../lib/clock/clock-sync.js';
import { SystemClock, type Clock, type TimerHandle } from '../../../lib/clock/clock.js';
import { SchedulerRoot } from '../../../lib/composition/scheduler.root.js';
import { resolveJobOptions } from '../../../lib/discovery/job-options.resolver.js';
import { LocalNotifier } from '../../../lib/notifier/notifier.js';
import { LocalPeer } from '../../../lib/peer/peer.js';
import { buildJobs } from '../../../lib/queue/job.builder.js';
import { resolveOptions } from '../../../lib/scheduler.options.js';
import { SchedulerRegistry } from '../../../lib/scheduler.registry.js';
import type { ClaimRequest } from '../../../lib/store/job-store.js';
import type { Job } from '../../../lib/store/job.types.js';
import { MemoryStore } from '../../../lib/store/memory.store.js';
import { FakeClock, flushPromises } from '../../../lib/testing/fake.clock.js';
import { T0 } from '../../support/app.js';

/**
 * A node whose clock is corrected by the store's (a SystemClock option)
 * must not lead, plan, claim or rescue before that correction is measured.
 * The clock here is a SystemClock in kind (so the root corrects it) whose
 * time and timers are a FakeClock's.
 */
class SteppedSystemClock extends SystemClock {
  constructor(private readonly fake: Clock) {
    super();
  }
  override now(): number {
    return this.fake.now();
  }
  override setTimeout(callback: () => void, ms: number): TimerHandle {
    return this.fake.setTimeout(callback, ms);
  }
  override clearTimeout(handle: TimerHandle): void {
    this.fake.clearTimeout(handle);
  }
}

/** A shared store started while its server was away: its clock answers `skew` ms ahead of the node's once the server does. */
class AwayStore extends MemoryStore {
  claims = 0;
  clockAnswers = true;
  private away = true;
  private reach: () => void = () => undefined;
  private readonly reached = new Promise<void>((resolve) => (this.reach = resolve));

  constructor(
    private readonly local: Clock,
    private readonly skew: number,
  ) {
    super();
  }

  /** The server answers from now on. */
  answer(): void {
    this.away = false;
    this.reach();
  }

  async clockNow(): Promise<number> {
    if (this.away) throw new Error('connect ECONNREFUSED');
    if (!this.clockAnswers) throw new Error("ERR unknown command 'TIME'");
    return this.local.now() + this.skew;
  }

  reachable(): Promise<void> {
    return this.reached;
  }

  override async claim(request: ClaimRequest): Promise<Job[]> {
    this.claims++;
    return super.claim(request);
  }
}

async function compose(clock: Clock, store: MemoryStore, peer: LocalPeer) {
  const registry = new SchedulerRegistry();
  const runs: string[] = [];
  const options = resolveJobOptions(
    {},
    (option, detail) => {
      throw new Error(`${option}: ${detail}`);
    },
    null,
  );
  registry.addDefinition({ name: 'export', source: 'Test.export', kind: 'method', run: async () => void runs.push('export'), options });
  const root = await SchedulerRoot.compose({
    options: resolveOptions({ clock, queues: { default: 2 } }),
    registry,
    openStore: async () => ({ store, peer, notifier: new LocalNotifier() }),
    resolveProvider: async () => {
      throw new Error('no provider is named');
    },
    resolveMiddleware: async () => [],
  });
  await root.start();
  const { service } = root.ports;
  await service.producer.insert(buildJobs(service.jobs, 'export', [{}], {}), 'api');
  return { root, runs };
}

describe('a node whose clock the store corrects works only once it is measured', () => {
  afterEach(() => vi.restoreAllMocks());

  it('started while the store was away, it neither leads nor claims until the store answers, and measures its clock at that moment', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const local = new FakeClock(T0);
    const store = new AwayStore(local, 30_000);
    const peer = new LocalPeer('node-1', true);
    const { root, runs } = await compose(new SteppedSystemClock(local), store, peer);
    try {
      // Far longer than the give-up bound: a store that is away does not count against it.
      await local.advance((UNMEASURED_GIVE_UP + 5) * 1_000);
      expect(peer.isLeader()).toBe(false);
      expect(store.claims).toBe(0);
      expect(runs).toEqual([]);
      // Not ready meanwhile: a readiness probe holds traffic back from a node that does not work yet.
      expect((await root.ports.health.report({ checks: ['started'] })).checks.started?.status).toBe('down');
      // No time passes: the first answer is the measurement's cue, not the next retry.
      store.answer();
      await flushPromises(20);
      expect(root.ports.service.clock.now()).toBe(local.now() + 30_000);
      expect(peer.isLeader()).toBe(true);
      expect(runs).toEqual(['export']);
      expect((await root.ports.health.report({ checks: ['started'] })).checks.started?.status).toBe('up');
    } finally {
      await root.stop();
    }
  });

  it(`a store that answers but not its clock holds the node back ${UNMEASURED_GIVE_UP} tries, then it works on its own clock and says so`, async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const local = new FakeClock(T0);
    const store = new AwayStore(local, 30_000);
    store.clockAnswers = false;
    store.answer();
    const peer = new LocalPeer('node-1', true);
    const { root, runs } = await compose(new SteppedSystemClock(local), store, peer);
    try {
      // One try at start, then one a second.
      await local.advance((UNMEASURED_GIVE_UP - 2) * 1_000);
      expect(peer.isLeader()).toBe(false);
      expect(store.claims).toBe(0);
      expect((await root.ports.health.report({ checks: ['started'] })).checks.started?.status).toBe('down');
      await local.advance(1_000);
      await flushPromises(20);
      expect(peer.isLeader()).toBe(true);
      expect((await root.ports.health.report({ checks: ['started'] })).checks.started?.status).toBe('up');
      expect(runs).toEqual(['export']);
      expect(root.ports.service.clock.now()).toBe(local.now());
      expect(warn.mock.calls.map((call) => String(call[0]))).toContainEqual(
        expect.stringMatching(/clock could not be read in 5 tries.*ERR unknown command 'TIME'/),
      );
    } finally {
      await root.stop();
    }
  });

  it('with a custom clock (a FakeClock) nothing is measured or waited for', async () => {
    const local = new FakeClock(T0);
    const store = new AwayStore(local, 30_000);
    const peer = new LocalPeer('node-1', true);
    const { root, runs } = await compose(local, store, peer);
    try {
      await flushPromises(20);
      expect(peer.isLeader()).toBe(true);
      expect(runs).toEqual(['export']);
      expect(root.ports.service.clock.now()).toBe(local.now());
    } finally {
      await root.stop();
    }
  });
});
