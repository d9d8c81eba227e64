import { Logger } from '@nestjs/common';
import type { RunningJobs } from '../execution/running-jobs.js';
import type { Notification } from '../notifier/notifier.js';
import type { QueueManager } from '../queue/queue.manager.js';
import type { JobStore } from '../store/job-store.js';

/**
 * What acting on a notification uses.
 * @internal
 */
export interface NotificationPorts {
  queues: Pick<QueueManager, 'wake' | 'wakeAll' | 'drop' | 'takePushed'>;
  /** This node: a `push` for another is not ours. */
  node: string;
  running: Pick<RunningJobs, 'get'>;
  store: Pick<JobStore, 'get'>;
  applyQueueStates(): Promise<void>;
  /** Reloads schedules, coalescing a burst of notices. */
  requestScheduleSync(): Promise<void>;
  /** Re-reads everything another node may have changed. */
  sync(): Promise<void>;
  /** Re-reads the circuit breakers. */
  refreshBreakers(): Promise<void>;
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
          if (message.node === this.ports.node) await queues.takePushed(message.queue, message.claim, message.ids);
          return;
        case 'cancel':
          return await this.cancel(message.jobId);
        case 'queues':
          return await this.ports.applyQueueStates();
        case 'schedules':
          return await this.ports.requestScheduleSync();
        case 'resync':
          await this.ports.sync();
          await this.ports.refreshBreakers();
          return queues.wakeAll('resync');
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
    this.ports.queues.drop(jobId);
    const running = this.ports.running.get(jobId);
    if (!running) return;
    // The notice carries only the id (a reason could pass NOTIFY's 8000-byte limit and lose
    // the notice): the reason is the cancel error that `store.cancel` kept on the job.
    const job = await this.ports.store.get(jobId).catch(() => null);
    if (job && job.state !== 'cancelled') return;
    running.abort('cancel', job?.errors.findLast((error) => error.kind === 'cancel')?.message);
  }
}
