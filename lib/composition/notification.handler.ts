import { Logger } from '@nestjs/common';
import type { Clock } from '../clock/clock.js';
import type { RunningJob, RunningJobs } from '../execution/running-jobs.js';
import type { Notification } from '../notifier/notifier.js';
import type { QueueManager } from '../queue/queue.manager.js';
import type { JobStore } from '../store/job-store.js';
import type { Job } from '../store/job.types.js';
import type { SchedulerEvents } from '../telemetry/scheduler.events.js';
import { cancelReason } from '../execution/lost-attempt.js';

/**
 * What acting on a notification uses.
 * @internal
 */
export interface NotificationPorts {
  queues: Pick<QueueManager, 'wake' | 'wakeAll' | 'drop' | 'takePushed' | 'adopt' | 'holds'>;
  /** This node: a `push` for another is not ours. */
  node: string;
  running: Pick<RunningJobs, 'get' | 'whenAdded'>;
  store: Pick<JobStore, 'get'>;
  clock: Pick<Clock, 'now'>;
  /** For the `job:cancel` of a job cancelled here before it started (its handler never runs to say it). */
  events: Pick<SchedulerEvents, 'emit'>;
  applyQueueStates(): Promise<void>;
  /** Reloads schedules, coalescing a burst of notices. */
  requestScheduleSync(): Promise<void>;
  /** Re-reads everything another node may have changed: queue states, schedules, breakers. */
  catchUp(): Promise<void>;
  /** Re-reads the circuit breakers. */
  refreshBreakers(): Promise<void>;
  /** Heartbeats this node's attempts now: one whose job was cancelled meanwhile stops (as a cancel). */
  beatNow(): Promise<void>;
}

/**
 * Acts on the messages of other nodes (and of this one): wake-ups, cancels, changed queues and schedules.
 * @internal
 */
export class NotificationHandler {
  private readonly logger = new Logger('Scheduler');

  constructor(private readonly ports: NotificationPorts) {}

  readonly handle = async (message: Notification): Promise<void> => {
    const { queues } = this.ports;
    try {
      switch (message.type) {
        case 'insert':
          return queues.wake(message.queue, 'insert', message.first);
        case 'push':
          if (message.node !== this.ports.node) return;
          // A pushed job cancelled before this node took it never starts: its cancel is told here.
          for (const id of await queues.takePushed(message.queue, message.claim, message.ids)) this.cancelledUnstarted(await this.ports.store.get(id));
          return;
        case 'cancel':
          return await this.cancel(message.jobId);
        case 'queues':
          return await this.ports.applyQueueStates();
        case 'schedules':
          return await this.ports.requestScheduleSync();
        case 'resync':
          await this.ports.catchUp();
          queues.wakeAll('resync');
          // A cancel notice among those missed: the attempt stops now, not at its next heartbeat.
          return await this.ports.beatNow();
        case 'leader':
          return; // for the peer
        case 'breakers':
          return await this.ports.refreshBreakers();
      }
    } catch (error) {
      this.logger.error(`handling a "${message.type}" notification failed: ${(error as Error)?.message ?? String(error)}`);
    }
  };

  private async cancel(jobId: string): Promise<void> {
    const { queues, running } = this.ports;
    const dropped = queues.drop(jobId);
    const attempt = running.get(jobId);
    if (attempt) return this.abortCancelled(attempt, false);
    if (dropped) return this.settleDropped(dropped, true);
    // Not running here, perhaps not yet: the notice can come before the answer of a claim (or a
    // push's take) that already took the job for this node. Its attempt is aborted as it starts.
    running.whenAdded(jobId, (started) => void this.abortCancelled(started, true));
  }

  /**
   * Settles a job taken out of a runner's buffer before it started, on a
   * cancel notice (`notice`) or a heartbeat that found its attempt no longer
   * this node's, by what the store says now. Cancelled here: its
   * `job:cancel` is told (see {@link cancelledUnstarted}). After a notice,
   * still held by this very claim (its fencing token) and nowhere else here:
   * the notice was of an earlier attempt's cancel (the job was retried and
   * claimed here since), so it goes back to its buffer, held as of the read.
   * The token, not the attempt: a job handed back unstarted (`unclaim`)
   * keeps its attempt, and a later claim of it here holds the same one.
   */
  async settleDropped(held: Job<unknown>, notice = false): Promise<void> {
    const heldAt = this.ports.clock.now();
    let job: Job<unknown> | null;
    try {
      job = await this.ports.store.get(held.id);
    } catch (error) {
      this.logger.warn(
        `job ${held.id} (queue ${held.queue}) left the buffer unstarted and its state could not be read (${(error as Error)?.message ?? String(error)}): ` +
          'if no cancel took it, it is rescued and runs later',
      );
      return;
    }
    const same = job?.state === 'running' && job.node === this.ports.node && job.attempt === held.attempt && job.fencingToken === held.fencingToken;
    if (notice && same && !this.ports.running.get(held.id) && !this.ports.queues.holds(held.id)) {
      this.ports.queues.adopt(held.queue, [held], heldAt);
      return;
    }
    this.cancelledUnstarted(job);
  }

  /**
   * Emits `job:cancel` for a job this node had claimed but not started (it
   * waited in a runner's buffer, or was pushed here and not yet taken) when
   * the store says a cancel took it here: no handler runs to say so, and the
   * caller of `cancelJob` saw a running job, which it leaves to this node.
   */
  private cancelledUnstarted(job: Job<unknown> | null): void {
    if (job?.state !== 'cancelled' || job.node !== this.ports.node) return;
    this.ports.events.emit('job:cancel', { job, duration: 0, outcome: 'cancelled', reason: cancelReason(job) ?? 'cancel' });
  }

  /**
   * Aborts an attempt whose job a notice said was cancelled, if the store
   * agrees. `confirmed`: only if the store answers that it is (an attempt
   * that started after the notice may be of the job retried since).
   */
  private async abortCancelled(attempt: RunningJob, confirmed: boolean): Promise<void> {
    // The notice carries only the id (a reason could pass NOTIFY's 8000-byte limit and lose
    // the notice): the reason is the cancel error that `store.cancel` kept on the job.
    const job = await this.ports.store.get(attempt.job.id).catch(() => null);
    if (job ? job.state !== 'cancelled' : confirmed) return;
    attempt.abort('cancel', job ? cancelReason(job) : undefined);
  }
}
