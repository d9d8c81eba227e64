import { Injectable, Logger } from '@nestjs/common';
import { Scheduled, Step, Worker, Workflow, type JobContext, type JobWorker, type StepContext } from '../../../lib/index.js';
import type { SchedulerDashboardOptions } from '../../../lib/dashboard/index.js';
import { startDashboard, type DashboardApp } from '../../support/dashboard-app.js';

@Worker({ name: 'send-email', queue: 'emails' })
class SendEmail implements JobWorker<{ to: string; password?: string }> {
  perform(ctx: JobContext<{ to: string }>) {
    return { delivered: ctx.args.to };
  }
}

@Worker({ name: 'charge-card', queue: 'billing', maxRetries: 0 })
class ChargeCard implements JobWorker<{ invoice: number }> {
  perform(ctx: JobContext<{ invoice: number }>) {
    throw new Error(`card declined for invoice ${ctx.args.invoice}`);
  }
}

@Injectable()
class Reports {
  @Scheduled({ cron: '0 3 * * *', name: 'nightly-report' })
  nightly() {
    return { rows: 120 };
  }

  @Scheduled({ every: '15m', name: 'sync-inventory' })
  sync() {}
}

@Workflow({ name: 'onboarding' })
class Onboarding {
  @Step()
  createAccount() {
    return { account: 'acc_1' };
  }
  @Step({ after: 'createAccount' })
  sendWelcome() {}
  @Step({ after: 'createAccount' })
  provisionWorkspace() {}
  @Step({ after: ['sendWelcome', 'provisionWorkspace'] })
  notifySales(ctx: StepContext) {
    return { notified: ctx.context.account !== undefined };
  }
}

@Workflow({ name: 'refund' })
class Refund {
  @Step()
  lookup() {
    return { amount: 10 };
  }
  @Step({ after: 'lookup', maxRetries: 0 })
  refund() {
    throw new Error('payment provider down');
  }
}

/** What the demo holds: ids the tests act on. */
export interface DemoData {
  deadJobs: string[];
  waitingJob: string;
  runningRun: string;
  failedRun: string;
  completedRun: string;
}

/** A demo app on a real port (127.0.0.1), its dashboard at `url`. */
export interface Demo extends DashboardApp {
  url: string;
  data: DemoData;
}

/** How to start one: dashboard options, the platform, a global prefix. */
export interface DemoOptions {
  dashboard?: SchedulerDashboardOptions;
  platform?: 'express' | 'fastify';
  prefix?: string;
}

/**
 * A web node (no queue runners; the tester runs the jobs) on the memory store and a fake clock, filled with
 * jobs in every state, dead letters, schedules, workflow runs (completed, running, failed) and an hour of history.
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  // The failing jobs would log their errors: the demo is quiet.
  Logger.overrideLogger(false);
  const app = await startDashboard({
    scheduler: { queues: false },
    providers: [SendEmail, ChargeCard, Reports, Onboarding, Refund],
    dashboard: { allowUnauthenticated: true, historyIntervalMs: 60_000, ...options.dashboard },
    ...(options.platform ? { platform: options.platform } : {}),
    ...(options.prefix ? { prefix: options.prefix } : {}),
  });
  const { scheduler, tester, clock } = app;
  // An hour of work, so the throughput chart has samples.
  for (let minute = 0; minute < 30; minute++) {
    await scheduler.enqueueMany(
      'send-email',
      Array.from({ length: 2 + (minute % 5) }, (_, i) => ({ to: `user${minute}-${i}@example.com` })),
    );
    if (minute % 7 === 3) await scheduler.enqueue('charge-card', { invoice: 1000 + minute });
    await tester.drainQueue();
    await clock.advance('1m');
  }
  const dead = await scheduler.enqueueMany('charge-card', [{ invoice: 2001 }, { invoice: 2002 }, { invoice: 2003 }]);
  await tester.drainQueue();
  const completedRun = await scheduler.workflows.start('onboarding', { user: 'ada' });
  const failedRun = await scheduler.workflows.start('refund', { order: 'o-17' });
  await tester.drainQueue();
  const runningRun = await scheduler.workflows.start('onboarding', { user: 'grace' });
  const waiting = await scheduler.enqueue('send-email', { to: 'ada@example.com', password: 'hunter2' });
  await scheduler.enqueue('send-email', { to: 'later@example.com' }, { delay: '2h' });
  const server = app.app.getHttpServer() as { address(): { port: number } | string | null };
  await app.app.listen(0, '127.0.0.1');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const prefix = options.prefix ? `/${options.prefix}` : '';
  return {
    ...app,
    url: `http://127.0.0.1:${port}${prefix}/scheduler/`,
    data: { deadJobs: dead.map((job) => job.id), waitingJob: waiting.id, runningRun, failedRun, completedRun },
  };
}
