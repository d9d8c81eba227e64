import { describe, expect, it } from 'vitest';
import { BreakerBoard } from '../../../lib/breakers/breaker.board.js';
import { MemoryBreakerStore } from '../../../lib/breakers/memory-breaker.store.js';
import type { BreakerChange, BreakerOutcome, BreakerRecord } from '../../../lib/breakers/circuit-breaker.types.js';
import type { Job } from '../../../lib/store/job.types.js';
import { SchedulerEvents } from '../../../lib/telemetry/scheduler.events.js';
import { FakeClock } from '../../../lib/testing/fake.clock.js';

/** A shared store's breakers whose answers arrive when the test lets them: each call is applied at once, its answer held. */
class LateBreakerStore extends MemoryBreakerStore {
  readonly held: (() => void)[] = [];
  holding = false;

  constructor() {
    super(() => []);
  }

  override async list(): Promise<BreakerRecord[]> {
    return this.late(await super.list());
  }

  override async record(name: string, outcome: BreakerOutcome, probe: boolean, now: Date): Promise<BreakerChange | null> {
    return this.late(await super.record(name, outcome, probe, now));
  }

  private late<T>(answer: T): Promise<T> | T {
    if (!this.holding) return answer;
    return new Promise((resolve) => this.held.push(() => resolve(answer)));
  }
}

const settings = { failureThreshold: 2, successThreshold: 1, resetTimeout: 30_000 };
const job = (id: string) => ({ id, attempt: 1, name: 'charge', queue: 'default' }) as Job<unknown>;

async function board() {
  const store = new LateBreakerStore();
  const clock = new FakeClock();
  const b = new BreakerBoard({
    store,
    jobs: { unclaim: async () => 0 },
    registry: { breakerFor: () => 'api', jobsOfBreaker: () => [], allDefinitions: () => [], allSchedules: () => [] },
    configured: new Map([['api', settings]]),
    clock,
    events: new SchedulerEvents(),
    wakeAt: () => undefined,
    notify: async () => undefined,
  });
  await b.load();
  return { store, b };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('BreakerBoard: copies answered out of order', () => {
  it('a re-read sent before this node opened the breaker, and answered after, does not close it again', async () => {
    const { store, b } = await board();
    store.holding = true;
    const refresh = b.refresh();
    await flush();
    store.holding = false;
    await b.settle('api', job('1'), 'failure');
    await b.settle('api', job('2'), 'failure');
    expect(b.isOpen('api')).toBe(true);
    store.held.shift()!();
    await refresh;
    expect(b.isOpen('api')).toBe(true);
    expect(b.record('api')).toMatchObject({ state: 'open', failures: 2 });
    // A later re-read still takes what changed in the store.
    await store.reset('api');
    await b.refresh();
    expect(b.record('api')).toMatchObject({ state: 'closed', failures: 0 });
  });

  it('two of its own calls answered in the other order leave the later state', async () => {
    const { store, b } = await board();
    store.holding = true;
    const first = b.settle('api', job('1'), 'failure');
    await flush();
    const second = b.settle('api', job('2'), 'failure');
    await flush();
    expect(store.held).toHaveLength(2);
    // The opening answer first, then the one before it (failures 1, closed).
    store.held[1]!();
    await second;
    expect(b.isOpen('api')).toBe(true);
    store.held[0]!();
    await first;
    expect(b.isOpen('api')).toBe(true);
    expect(b.admit('api', job('3'))).not.toBe('run');
  });
});
