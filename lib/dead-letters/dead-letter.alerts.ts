import { Logger } from '@nestjs/common';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { PeriodicTask, type LoopTask } from '../planner/scheduler.loop.js';
import type { SchedulerPlugin } from '../plugins/scheduler.plugin.js';
import type { DeadLetterAlert } from '../store/dead-letter-store.js';
import type { JobStore } from '../store/job-store.js';
import { toDeadLetter } from './dead-letter.entry.js';
import { DEAD_LETTER_ALERT_TRIES, type DeadLetterHandler } from './dead-letter.options.js';

/**
 * How long (ms) a taken `onDeadLetter` alert is its node's: a node that dies
 * mid-handle loses it for this long, then another node takes it.
 * @publicApi
 */
export const DEAD_LETTER_ALERT_LEASE = 60_000;
// Taken a few at a time: a node handles them one after another, others take the rest.
const BATCH = 10;
const RETRY_BASE = 10_000;
const RETRY_MAX = 600_000;

/**
 * What the alerts use.
 * @internal
 */
export interface DeadLetterAlertPorts {
  store: Pick<JobStore, 'takeDeadAlerts' | 'settleDeadAlert'>;
  clock: Clock;
  handler: DeadLetterHandler;
  /** How often to look for new dead letters, in ms. */
  interval: number;
  /** How long `stop` waits for a handler still running, in ms. */
  shutdownGracePeriod: number;
}

/**
 * Runs `onDeadLetter` once per dead job in the cluster (every node that has
 * a handler takes part). The store hands each death to one node at a time
 * under a lease; the handler's success settles it; a throw makes it due
 * again after a backoff (10 s, doubling, at most 10 min), up to
 * {@link DEAD_LETTER_ALERT_TRIES} calls; a node that dies mid-handle lets the
 * lease run out, and another node takes it.
 * @internal
 */
export class DeadLetterAlertsPlugin implements SchedulerPlugin {
  readonly name = 'dead-letter-alerts';
  private readonly logger = new Logger('Scheduler');
  // Handlers run apart from the loop (which must not wait on user code); one batch at a time.
  private inflight: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly ports: DeadLetterAlertPorts) {}

  tasks(): LoopTask[] {
    return [
      new PeriodicTask(this.name, this.ports.interval, async () => {
        void this.kick();
      }),
    ];
  }

  /** Starts handling what is due unless a batch is in flight; resolves when it is done (for tests and shutdown). */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.inflight ??= this.drain().finally(() => (this.inflight = null));
    return this.inflight;
  }

  /**
   * Takes no more alerts and waits for the handler still running, at most
   * the shutdown grace period; an alert it leaves unsettled is taken again
   * after its lease, by this node or another.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const inflight = this.inflight;
    if (!inflight) return;
    const { clock, shutdownGracePeriod } = this.ports;
    let timer: TimerHandle | undefined;
    const grace = new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, shutdownGracePeriod)));
    await Promise.race([inflight, grace]);
    if (timer !== undefined) clock.clearTimeout(timer);
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) return;
        const alerts = await this.ports.store.takeDeadAlerts(new Date(this.ports.clock.now()), DEAD_LETTER_ALERT_LEASE, BATCH);
        for (const alert of alerts) await this.handle(alert);
        if (alerts.length < BATCH) return;
      }
    } catch (error) {
      this.logger.error(`dead-letter alerts: ${(error as Error)?.stack ?? String(error)}`);
    }
  }

  private async handle({ job, tries }: DeadLetterAlert): Promise<void> {
    const diedAt = job.finishedAt ?? new Date(this.ports.clock.now());
    let retryAt: Date | null = null;
    try {
      await this.ports.handler.handle(toDeadLetter(job));
    } catch (error) {
      const last = tries >= DEAD_LETTER_ALERT_TRIES;
      this.logger.error(
        `onDeadLetter threw for ${job.name} (${job.id}), call ${tries}/${DEAD_LETTER_ALERT_TRIES}${last ? '; giving up' : ''}: ${(error as Error)?.stack ?? String(error)}`,
      );
      if (!last) retryAt = new Date(this.ports.clock.now() + Math.min(RETRY_BASE * 2 ** (tries - 1), RETRY_MAX));
    }
    await this.ports.store.settleDeadAlert(job.id, diedAt, retryAt);
  }
}
