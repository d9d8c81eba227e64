import type { Clock } from '../clock/clock.js';
import type { Attempt } from '../execution/job.attempt.js';
import type { RunningJobs } from '../execution/running-jobs.js';
import type { SchedulerRegistry } from '../scheduler.registry.js';
import type { Job, Preemptible } from '../store/job.types.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';

/**
 * What a queue's preemption uses.
 * @internal
 */
export interface QueuePreemptionDeps {
  queue: string;
  running: RunningJobs;
  registry: Pick<SchedulerRegistry, 'findDefinition'>;
  events: SchedulerEvents;
  clock: Clock;
}

interface Suspension {
  attempt: Attempt;
  /** When it gave up its slot, for the order of resumption among equal priorities. */
  since: number;
  resume: () => void;
}

/**
 * The preemption of one queue runner's attempts: which running attempt
 * yields to a more urgent claimed job, the attempts suspended at their
 * checkpoint, and which of them resumes when a slot frees.
 *
 * Cooperative: an attempt is only asked (`ctx.preempted`); it gives up its
 * slot at its next `ctx.checkpoint()`, so a queue never runs more than its
 * concurrency of attempts that are not suspended. One that never reaches a
 * checkpoint keeps its slot; the urgent job then waits for a slot as usual.
 * @internal
 */
export class QueuePreemption {
  /** Attempts asked to yield, by job id, with the job that asked. */
  private readonly asked = new Map<string, Job<unknown>>();
  private readonly suspended = new Map<string, Suspension>();

  constructor(private readonly deps: QueuePreemptionDeps) {}

  /** Suspended attempts (they hold no slot). */
  get size(): number {
    return this.suspended.size;
  }

  /** The jobs suspended now. */
  get jobs(): Job<unknown>[] {
    return [...this.suspended.values()].map((s) => s.attempt.job);
  }

  /** The largest priority number among running attempts that could still be asked to yield, or -1. */
  worstYielding(): number {
    let worst = -1;
    for (const attempt of this.candidates()) worst = Math.max(worst, attempt.job.priority);
    return worst;
  }

  /**
   * Asks running attempts to yield to `urgent` (buffered jobs, most urgent
   * first) while the runner has no free slot: each more urgent than a
   * running attempt that may yield takes the least urgent such attempt (the
   * latest started among equals). An attempt already asked counts for one.
   */
  askFor(urgent: readonly Job<unknown>[]): void {
    let owed = urgent.length - this.asked.size;
    for (const incoming of urgent) {
      if (owed <= 0) return;
      const victim = this.victimFor(incoming);
      if (!victim) return;
      owed--;
      this.asked.set(victim.job.id, incoming);
      if (this.preemptibleOf(victim.job) === 'requeue') {
        this.emitPreempt(victim, incoming);
        victim.abort('preempted');
      } else victim.preempted = true;
    }
  }

  /** The attempt reached its checkpoint while asked: it is suspended until {@link resumeNext} or an abort. */
  suspend(attempt: Attempt): Promise<void> {
    const incoming = this.asked.get(attempt.job.id);
    this.asked.delete(attempt.job.id);
    if (incoming) this.emitPreempt(attempt, incoming);
    return new Promise<void>((resolve) => {
      const suspension: Suspension = { attempt, since: this.deps.clock.now(), resume: resolve };
      this.suspended.set(attempt.job.id, suspension);
      attempt.wake = () => {
        // Aborted while suspended (shutdown, cancel, timeout): the handler goes on to see its signal, with no slot of its own.
        attempt.wake = null;
        resolve();
      };
    });
  }

  /**
   * Resumes the suspended attempt that comes before the next buffered job
   * (`next`, or none): the most urgent, the earliest suspended among
   * equals, if it is at least as urgent as `next`. Resolves to whether one
   * resumed (it takes the free slot).
   */
  resumeNext(next: Job<unknown> | undefined): boolean {
    let best: Suspension | null = null;
    for (const s of this.suspended.values()) {
      if (s.attempt.reason !== undefined) continue;
      if (!best || s.attempt.job.priority < best.attempt.job.priority || (s.attempt.job.priority === best.attempt.job.priority && s.since < best.since))
        best = s;
    }
    if (!best || (next !== undefined && next.priority < best.attempt.job.priority)) return false;
    this.suspended.delete(best.attempt.job.id);
    const attempt = best.attempt;
    attempt.preempted = false;
    attempt.wake = null;
    const { events, clock } = this.deps;
    if (events.has('job:resume'))
      events.emit('job:resume', { job: attempt.job, queue: this.deps.queue, reason: 'preemption_ended', suspendedFor: clock.now() - best.since });
    best.resume();
    return true;
  }

  /**
   * An attempt's handler returned: forgets it. True when it was suspended
   * (so it held no slot to free).
   */
  ended(jobId: string): boolean {
    this.asked.delete(jobId);
    return this.suspended.delete(jobId);
  }

  /** The job's own `preemptible` (its enqueue call's), else its handler's. */
  private preemptibleOf(job: Job<unknown>): Preemptible {
    return job.preemptible ?? this.deps.registry.findDefinition(job.name)?.options.preemptible ?? 'suspend';
  }

  private *candidates(): Generator<Attempt> {
    for (const entry of this.deps.running.all(this.deps.queue)) {
      const attempt = entry as Attempt;
      if (attempt.reason !== undefined || attempt.preempted || this.asked.has(attempt.job.id) || this.suspended.has(attempt.job.id) || !attempt.holdsSlot)
        continue;
      if (this.preemptibleOf(attempt.job) === false) continue;
      yield attempt;
    }
  }

  private victimFor(incoming: Job<unknown>): Attempt | null {
    let victim: Attempt | null = null;
    for (const attempt of this.candidates()) {
      if (attempt.job.priority <= incoming.priority) continue;
      if (!victim || attempt.job.priority > victim.job.priority || (attempt.job.priority === victim.job.priority && later(attempt, victim))) victim = attempt;
    }
    return victim;
  }

  private emitPreempt(attempt: Attempt, incoming: Job<unknown>): void {
    const { events } = this.deps;
    if (!events.has('job:preempt')) return;
    events.emit('job:preempt', {
      preempted: attempt.job,
      preemptedPriority: attempt.job.priority,
      incoming,
      incomingPriority: incoming.priority,
      queue: this.deps.queue,
    });
  }
}

/** Started later, or at the same instant but claimed later (a larger id: ids grow). */
function later(a: Attempt, b: Attempt): boolean {
  if (a.started !== b.started) return a.started > b.started;
  const x = a.job.id;
  const y = b.job.id;
  return x.length !== y.length ? x.length > y.length : x > y;
}
