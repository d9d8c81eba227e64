import type { ServicePorts } from '../composition/scheduler.ports.js';
import type { QueueRunner } from '../queue/queue.runner.js';
import { InvalidArgumentError, QueueNotFoundError } from '../scheduler.errors.js';
import type { QueueStats } from '../scheduler.types.js';
import { checkStoredName } from '../store/job-input.validation.js';

/**
 * Pauses, resumes or scales a queue on every node (kept across restarts), then emits its event.
 * @internal
 */
export async function changeQueue(
  s: ServicePorts,
  queue: string,
  event: 'queue:pause' | 'queue:resume' | 'queue:scale',
  patch: { paused?: boolean; concurrency?: number },
  apply: (runner: QueueRunner) => void,
  extra: { from?: number; to?: number } = {},
): Promise<void> {
  checkQueueName(queue);
  if (s.queueSpecs && !s.queueSpecs.has(queue)) throw new QueueNotFoundError(queue);
  // A node that runs no jobs knows no queue names: the state is stored for any name a job could have.
  checkStoredName('queue', queue);
  const started = s.clock.now();
  await s.store.setQueueState(queue, patch);
  const runner = s.queues.get(queue);
  if (runner) apply(runner);
  // A read begun before the write (another node's notice, the periodic sync) may be answered
  // after this: it would undo the change here. The read this waits for begins after the write.
  if (runner) await s.readQueueStates().catch(() => undefined); // else the next sync reads them
  await s.broadcast({ type: 'queues' });
  s.events.emit(event, { queue, duration: s.clock.now() - started, outcome: 'ok', ...extra });
}

/**
 * `SchedulerService.scaleQueue`: a new concurrency for a queue, on every node.
 * @internal
 */
export async function scaleQueue(s: ServicePorts, queue: string, concurrency: number): Promise<void> {
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) {
    throw new InvalidArgumentError('concurrency', `must be an integer from 1 to 10000, got ${String(concurrency)}`);
  }
  const from = s.queues.get(queue)?.limit;
  await changeQueue(s, queue, 'queue:scale', { concurrency }, (runner) => runner.scale(concurrency), { from, to: concurrency });
}

/**
 * Counts per queue (every queue of this node's configuration or with jobs in the store).
 * @internal
 */
export async function queueStats(s: ServicePorts, queue?: string): Promise<QueueStats[]> {
  if (queue !== undefined) checkQueueName(queue);
  if (queue !== undefined && s.queueSpecs && !s.queueSpecs.has(queue)) throw new QueueNotFoundError(queue);
  const counts = new Map((await s.store.queueCounts(new Date(s.clock.now()))).map((c) => [c.queue, c]));
  const states = new Map((await s.store.getQueueStates()).map((q) => [q.name, q]));
  // A queue asked for by name is answered even with no job (a node with `queues: false` knows any name).
  const names = queue === undefined ? new Set([...(s.queueSpecs?.keys() ?? []), ...counts.keys()]) : [queue];
  return [...names].map((name): QueueStats => {
    const c = counts.get(name);
    const runner = s.queues.get(name);
    const suspended = runner?.suspended.map((job) => job.id) ?? [];
    const running = runner?.running ?? [];
    return {
      queue: name,
      concurrency: runner?.limit ?? null,
      storedConcurrency: states.get(name)?.concurrency ?? null,
      paused: runner?.isPaused ?? states.get(name)?.paused ?? false,
      runningHere: runner?.busy ?? 0,
      runningJobs: running.filter((id) => !suspended.includes(id)),
      preemption: runner?.preempts ?? false,
      preempted: suspended.length,
      preemptedJobs: suspended,
      available: c?.available ?? 0,
      scheduled: c?.scheduled ?? 0,
      running: c?.running ?? 0,
      completed: c?.completed ?? 0,
      dead: c?.dead ?? 0,
      discarded: c?.discarded ?? 0,
      cancelled: c?.cancelled ?? 0,
    };
  });
}

/** A queue argument from plain JavaScript may be anything. */
function checkQueueName(queue: unknown): asserts queue is string {
  if (typeof queue !== 'string' || !queue) throw new InvalidArgumentError('queue', 'must be a queue name');
}
