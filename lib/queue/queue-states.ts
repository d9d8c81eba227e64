import type { Clock } from '../clock/clock.js';
import type { JobExecutor } from '../execution/job.executor.js';
import type { RunningJobs } from '../execution/running-jobs.js';
import type { ResolvedOptions } from '../scheduler.options.js';
import type { JobStore } from '../store/job-store.js';
import type { QueueState } from '../store/job.types.js';
import type { QueueManager } from './queue.manager.js';
import { QueueRunner } from './queue.runner.js';
import { QueuePreemption } from './queue.preemption.js';
import type { SchedulerRegistry } from '../scheduler.registry.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import type { QueueRateLimit } from './rate-limited.claims.js';
import type { StoreTimer } from '../telemetry/metrics/store-timer.js';

/**
 * What starting this node's queue runners uses.
 * @internal
 */
export interface QueueSetupPorts {
  /** The queues this node runs (`null`: none, a web node). */
  specs: ResolvedOptions['queues'];
  queues: QueueManager;
  store: JobStore;
  executor: JobExecutor;
  running: RunningJobs;
  clock: Clock;
  node: string;
  /** The rate limits of a queue's claims, or `undefined` when none applies. */
  rateLimit(queue: string): QueueRateLimit | undefined;
  /** For queues with `preemption`: each job's `preemptible` option, and the events. */
  registry: Pick<SchedulerRegistry, 'findDefinition'>;
  events: SchedulerEvents;
  /** Times the runners' claims; `null` when metrics or `storeOperations` are off. */
  storeTimer: StoreTimer | null;
  /** `lifeline.rescueAfter`: buffered jobs not known held for half of it are checked before they start (see `BufferHold`). */
  rescueAfter: number;
}

/**
 * Builds and starts a runner per configured queue, paused and scaled as the stored queue states say.
 * @internal
 */
export function startQueues(ports: QueueSetupPorts, stored: readonly QueueState[]): void {
  const { specs, queues, store, executor, running, clock, node, rateLimit, registry, events, storeTimer, rescueAfter } = ports;
  if (!specs) return;
  const states = new Map(stored.map((q) => [q.name, q]));
  for (const [name, spec] of specs) {
    const state = states.get(name);
    const runner = new QueueRunner(name, state?.concurrency ?? spec.concurrency, spec.shutdownGracePeriod, spec.prefetch, {
      store,
      executor,
      running,
      clock,
      node,
      rateLimit: rateLimit(name),
      storeTimer,
      // A live node beats at least this often: older proof may mean the process stood still.
      doubtAfter: rescueAfter / 2,
      ...(spec.preemption ? { preemption: new QueuePreemption({ queue: name, running, registry, events, clock }) } : {}),
    });
    runner.setPaused(state?.paused ?? false);
    queues.add(runner);
  }
  for (const runner of queues.all()) runner.start();
}

/**
 * Applies queue states changed on any node (pause, concurrency) to this node's runners.
 * @internal
 */
export async function applyQueueStates(ports: Pick<QueueSetupPorts, 'specs' | 'queues' | 'store'>): Promise<void> {
  const { specs, queues, store } = ports;
  if (!specs) return;
  for (const state of await store.getQueueStates()) {
    const runner = queues.get(state.name);
    if (!runner) continue;
    if (runner.isPaused !== state.paused) runner.setPaused(state.paused);
    const concurrency = state.concurrency ?? specs.get(state.name)!.concurrency;
    if (runner.limit !== concurrency) runner.scale(concurrency);
  }
}
