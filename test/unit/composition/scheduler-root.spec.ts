import { describe, expect, it } from 'vitest';
import { SchedulerRoot } from '../../../lib/composition/scheduler.root.js';
import { resolveJobOptions } from '../../../lib/discovery/job-options.resolver.js';
import type { JobContext } from '../../../lib/execution/job-context.js';
import type { JobMiddleware } from '../../../lib/middleware/job-middleware.js';
import { LocalNotifier, type Notification } from '../../../lib/notifier/notifier.js';
import type { Peer } from '../../../lib/peer/peer.js';
import { buildJobs } from '../../../lib/queue/job.builder.js';
import { compileSchedule } from '../../../lib/schedule/schedule-spec.js';
import { resolveOptions } from '../../../lib/scheduler.options.js';
import { SchedulerRegistry, type JobDefinition } from '../../../lib/scheduler.registry.js';
import { cancelJobs } from '../../../lib/service/job.calls.js';
import { MemoryStore } from '../../../lib/store/memory.store.js';
import { FakeClock, flushPromises } from '../../../lib/testing/fake.clock.js';
import { T0 } from '../../support/app.js';

/**
 * The composition root built without Nest: a registry filled by hand, a
 * store bundle and middleware given as plain functions. The peer and the
 * notifier plugged in here are not the in-process defaults, so the test
 * fails if the root ignores what the bundle brings.
 */

/** A peer that leads only when told to (as a database lease would decide). */
class SwitchPeer implements Peer {
  private leader = false;
  private readonly listeners: ((leader: boolean) => void)[] = [];
  async start(): Promise<void> {}
  async stop(): Promise<void> {
    this.set(false);
  }
  isLeader(): boolean {
    return this.leader;
  }
  async leaderNode(): Promise<string | null> {
    return this.leader ? 'other' : null;
  }
  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }
  set(leader: boolean): void {
    this.leader = leader;
    for (const listener of this.listeners) listener(leader);
  }
}

/** The in-process notifier, recording every message sent through it. */
class RecordingNotifier extends LocalNotifier {
  readonly sent: Notification[] = [];
  override async notify(message: Notification): Promise<void> {
    this.sent.push(message);
    await super.notify(message);
  }
}

function definition(name: string, run: (ctx: JobContext<unknown>) => unknown): JobDefinition {
  const options = resolveJobOptions(
    {},
    (option, detail) => {
      throw new Error(`${option}: ${detail}`);
    },
    null,
  );
  return { name, source: `Test.${name}`, kind: 'method', run: async (ctx) => run(ctx), options };
}

async function compose(clock: FakeClock, peer: SwitchPeer, notifier: RecordingNotifier, middleware: JobMiddleware[]) {
  const registry = new SchedulerRegistry();
  const runs: string[] = [];
  registry.addDefinition(definition('export', (ctx) => runs.push(`export:${JSON.stringify(ctx.args)}`)));
  const tick = definition('tick', () => runs.push('tick'));
  registry.addDefinition(tick);
  // Holds its slot until its signal aborts, then records why.
  registry.addDefinition(
    definition(
      'hold',
      (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(void runs.push(`aborted:${ctx.abortReason}`)))),
    ),
  );
  registry.addSchedule({
    name: 'tick',
    handler: tick,
    spec: compileSchedule({ every: '1m' }, 'Test.tick')!,
    options: tick.options,
    origin: 'static',
    input: { every: '1m' },
  });
  const options = resolveOptions({ clock, queues: { default: 2 } });
  const seen: string[] = [];
  const root = await SchedulerRoot.compose({
    options,
    registry,
    openStore: async () => ({ store: new MemoryStore(), peer, notifier }),
    resolveProvider: async () => {
      throw new Error('no provider is named');
    },
    resolveMiddleware: async (d) => {
      seen.push(d.name);
      return middleware;
    },
  });
  return { root, runs, seen, registry };
}

describe('SchedulerRoot, composed without Nest', () => {
  it('runs an enqueued job through its middleware on the fake clock, and resolves middleware once per definition at compose time', async () => {
    const clock = new FakeClock(T0);
    const calls: string[] = [];
    const middleware: JobMiddleware = {
      before: (ctx) => void calls.push(`before:${ctx.name}`),
      onComplete: (ctx, o) => void calls.push(`done:${ctx.name}:${o.status}`),
    };
    const { root, runs, seen } = await compose(clock, new SwitchPeer(), new RecordingNotifier(), [middleware]);
    expect(seen.filter((name) => name === 'export' || name === 'tick')).toEqual(['export', 'tick']);
    await root.start();
    try {
      const { service } = root.ports;
      await service.producer.insert(buildJobs(service.jobs, 'export', [{ day: 1 }], { delay: '30s' }), 'api');
      await clock.advance('29s');
      expect(runs).toEqual([]);
      await clock.advance('1s');
      await flushPromises(5);
      expect(runs).toEqual(['export:{"day":1}']);
      expect(calls).toEqual(['before:export', 'done:export:completed']);
      const [job] = await service.store.list({ nameOrSchedule: 'export', states: ['completed'] });
      expect(job?.state).toBe('completed');
      expect(seen.filter((name) => name === 'export')).toHaveLength(1);
    } finally {
      await root.stop();
    }
  });

  it('plans schedules only while the peer it was given says this node leads', async () => {
    const clock = new FakeClock(T0);
    const peer = new SwitchPeer();
    const { root, runs } = await compose(clock, peer, new RecordingNotifier(), []);
    await root.start();
    try {
      await clock.advance('2m');
      expect(runs).toEqual([]);
      expect(root.ports.service.peer.isLeader()).toBe(false);
      peer.set(true);
      await flushPromises(5);
      await clock.advance('1m');
      await flushPromises(5);
      expect(runs).toContain('tick');
    } finally {
      await root.stop();
    }
  });

  it('cancels a running job through the notifier it was given', async () => {
    const clock = new FakeClock(T0);
    const notifier = new RecordingNotifier();
    const { root, runs } = await compose(clock, new SwitchPeer(), notifier, []);
    await root.start();
    try {
      const { service } = root.ports;
      const [inserted] = await service.producer.insert(buildJobs(service.jobs, 'hold', [{}], {}), 'api');
      await flushPromises(5);
      expect((await service.store.get(inserted!.job.id))?.state).toBe('running');
      expect(await cancelJobs(service, inserted!.job.id, 'stop')).toBe(1);
      await flushPromises(5);
      expect(notifier.sent).toEqual([{ type: 'cancel', jobId: inserted!.job.id }]);
      expect(runs).toEqual(['aborted:cancel']);
    } finally {
      await root.stop();
    }
  });
});
