import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerService } from '../lib/index.js';
import { CatalogSyncWorker } from './catalog-sync.batch.js';

/** Uses the runtime API once the app is up: enqueue, start workflows, listen to events, control queues. */
@Injectable()
export class StartupService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StartupService.name);
  private timer?: NodeJS.Timeout;
  /** The two onboarding runs started at boot, and those whose end (and rollback) was seen. */
  private onboardingRuns: string[] = [];
  private readonly endedRuns = new Set<string>();
  private diagramPrinted = false;

  constructor(private readonly scheduler: SchedulerService) {}

  async onApplicationBootstrap(): Promise<void> {
    // Events: every failed attempt, whether it will be retried (nextRunAt) or is dead (null).
    // With several instances on PostgreSQL, only the leader plans ticks; every instance runs jobs.
    const leadership = (leader: boolean) =>
      this.logger.log(
        leader
          ? 'this instance is the leader: it plans the schedules'
          : 'this instance does not plan the schedules (another one leads, or it is shutting down)',
      );
    leadership(this.scheduler.isLeader());
    this.scheduler.on('peer:election', () => leadership(true));
    this.scheduler.on('peer:resignation', () => leadership(false));
    this.scheduler.on('job:exception', ({ job, error, nextRunAt }) => {
      const next = nextRunAt ? `retry at ${nextRunAt.toISOString()}` : 'dead letter';
      this.logger.warn(`[event] ${job.name} attempt ${job.attempt} failed: ${(error as Error).message} → ${next}`);
    });

    // Queued work: runs as soon as a slot of the `emails` queue is free, or after a delay.
    this.logger.log('enqueueing 3 emails (one delayed by 2 s)');
    await this.scheduler.enqueue('send-email', { to: 'ada@example.com', subject: 'Welcome' });
    await this.scheduler.enqueue('send-email', { to: 'alan@example.com', subject: 'Your report' });
    await this.scheduler.enqueue('send-email', { to: 'grace@example.com', subject: 'Reminder' }, { delay: '2s' });

    await this.startWorkflows();
    await this.chargeInvoices();
    await this.syncCatalogue();

    this.timer = setTimeout(() => void this.runtimeControl(), 5_000);
  }

  /** A rate-limited queue: 5 invoices, of which 2 start at once and the rest one a second (2 per 2 s). */
  private async chargeInvoices(): Promise<void> {
    this.scheduler.on('job:skip', ({ reason, job }) => {
      if (reason === 'rate_limited') this.logger.log(`[event] ${job?.name} ${job?.id} waits for a rate-limit token (no attempt spent)`);
    });
    this.logger.log('enqueueing 5 invoices on the rate-limited billing queue (2 per 2 s)');
    await this.scheduler.enqueueMany(
      'invoice',
      [1, 2, 3, 4, 5].map((n) => ({ invoice: `INV-${n}`, cents: 1000 * n })),
    );
    const showBucket = async () => {
      const { tokens, capacity, refillPerSecond } = await this.scheduler.rateLimits.status('queues', 'billing');
      this.logger.log(`billing bucket: ${tokens.toFixed(2)} of ${capacity} tokens, ${refillPerSecond} a second`);
    };
    setTimeout(() => void showBucket(), 1_500).unref();
  }

  /** A batch with progress: the catalogue, 10 products a page; each checkpointed page is reported. */
  private async syncCatalogue(): Promise<void> {
    this.scheduler.on('batch:progress', ({ job, processed, failed, cursor }) =>
      this.logger.log(`[event] ${job.name} ${job.id}: ${processed} synced, ${failed} failed, checkpoint at ${JSON.stringify(cursor)}`),
    );
    this.scheduler.on('batch:stop', ({ job, result }) =>
      this.logger.log(
        `[event] ${job.name} ${job.id} done: ${result.processed} synced, ${result.failed} failed (${result.errors.map((e) => e.message).join('; ')})`,
      ),
    );
    this.logger.log('enqueueing the catalogue sync batch (25 products, 10 a page)');
    await this.scheduler.enqueue(CatalogSyncWorker, {});
  }

  /** Workflows: one onboarding run completes; the other's card is declined, so it fails and is rolled back. */
  private async startWorkflows(): Promise<void> {
    this.scheduler.on('workflow:stop', ({ runId, workflow, duration }) => {
      this.logger.log(`[event] workflow ${workflow} run ${runId} completed in ${duration} ms`);
      this.runEnded(runId);
    });
    this.scheduler.on('workflow:fail', ({ runId, workflow, error }) => this.logger.warn(`[event] workflow ${workflow} run ${runId} failed: ${error}`));
    // The failed run has one step with a rollback (provisionWorkspace): its rollback:stop is the last thing that run does.
    this.scheduler.on('rollback:stop', ({ runId, workflow, step }) => {
      this.logger.log(`[event] workflow ${workflow} run ${runId}: step ${step} rolled back`);
      this.runEnded(runId);
    });

    this.logger.log('starting 2 onboarding workflow runs (the second card is declined)');
    const completed = await this.scheduler.workflows.start('onboarding', { email: 'ada@example.com', plan: 'trial' });
    const failed = await this.scheduler.workflows.start('onboarding', { email: 'alan@example.com', plan: 'pro', cardDeclined: true });
    this.onboardingRuns = [completed, failed];
    this.runEnded(); // in case both ended already
  }

  /** Once both runs have ended, prints the failed one as a Mermaid flowchart, each step marked with its state. */
  private runEnded(runId?: string): void {
    if (runId !== undefined) this.endedRuns.add(runId);
    if (this.diagramPrinted || this.onboardingRuns.length === 0 || !this.onboardingRuns.every((id) => this.endedRuns.has(id))) return;
    this.diagramPrinted = true;
    const failedRun = this.onboardingRuns[1]!;
    void this.scheduler.workflows.toMermaid(failedRun).then(
      (diagram) => this.logger.log(`onboarding run ${failedRun} as Mermaid:\n${diagram}`),
      (error: unknown) => this.logger.error(`toMermaid failed: ${String(error)}`),
    );
  }

  /** Runtime control: pause a queue, enqueue while paused, resume, scale, read stats. */
  private async runtimeControl(): Promise<void> {
    await this.scheduler.pauseQueue('emails');
    await this.scheduler.enqueue('send-email', { to: 'linus@example.com', subject: 'Sent after resume' });
    const paused = await this.scheduler.queueStats('emails');
    this.logger.log(`emails paused: ${JSON.stringify({ paused: paused.paused, available: paused.available })}`);

    // A timer does not await its callback: a failure is logged here, not left as an unhandled rejection.
    this.timer = setTimeout(() => {
      this.resumeAndScale().catch((error: unknown) => this.logger.error(`runtime control failed: ${String(error)}`));
    }, 1_000);
  }

  private async resumeAndScale(): Promise<void> {
    await this.scheduler.resumeQueue('emails');
    await this.scheduler.scaleQueue('emails', 4);
    for (const s of await this.scheduler.queueStats()) {
      this.logger.log(
        `queue ${s.queue}: concurrency ${s.concurrency}, paused ${s.paused}, completed ${s.completed}, scheduled ${s.scheduled}, running ${s.running}`,
      );
    }
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer); // leave nothing behind when the app closes
  }
}
