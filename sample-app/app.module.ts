import { Module } from '@nestjs/common';
// In your app: import { SchedulerModule } from 'nestjs-scheduler';
import { SchedulerModule } from '../lib/index.js';
// In your app: import { SchedulerDashboardModule } from 'nestjs-scheduler/dashboard';
import { SchedulerDashboardModule } from '../lib/dashboard/index.js';
import { CatalogSyncWorker } from './catalog-sync.batch.js';
import { EmailWorker } from './email.worker.js';
import { InvoiceWorker } from './invoice.worker.js';
import { OnboardingWorkflow } from './onboarding.workflow.js';
import { ChargeWorker, PaymentsApi, PaymentsDemo } from './payments.worker.js';
import { ReportJobs } from './report.jobs.js';
import { StartupService } from './startup.service.js';
import { TokenGuard } from './token.guard.js';

@Module({
  imports: [
    // Global: SchedulerService can be injected anywhere.
    SchedulerModule.forRoot({
      // 'memory' (the default): jobs live in this process, nothing survives a restart.
      // `npm run sample:postgres` sets SAMPLE_STORE=postgres: jobs live in PostgreSQL
      // (DATABASE_URL), survive restarts, and many instances share them.
      // `npm run sample:redis` sets SAMPLE_STORE=redis: jobs live in Redis (REDIS_URL), shared the same way.
      // `npm run sample:sqlite` sets SAMPLE_STORE=sqlite: jobs live in one file (SQLITE_PATH),
      // survive restarts, and the instances of one machine share them, with no server.
      store:
        process.env.SAMPLE_STORE === 'postgres'
          ? { type: 'postgres', url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', schema: 'scheduler_sample' }
          : process.env.SAMPLE_STORE === 'redis'
            ? { type: 'redis', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: 'scheduler-sample' }
            : process.env.SAMPLE_STORE === 'sqlite'
              ? { type: 'sqlite', path: process.env.SQLITE_PATH ?? 'dist/scheduler-sample.db' }
              : 'memory',
      queues: { default: 5, emails: 2, payments: 1, billing: 2 }, // queue name → how many of its jobs run at once on this node
      // A named circuit breaker, used by ChargeWorker: 3 failures in a row open it for 2 s,
      // then one probe decides (seed 003's defaults are 5, 2 and 30 s).
      circuitBreakers: { 'payments-api': { failureThreshold: 3, successThreshold: 1, resetTimeout: '2s' } },
      // Token buckets: at most 2 invoices start per 2 s (on PostgreSQL, across every instance).
      rateLimits: { queues: { billing: { limit: 2, per: '2s' } } },
    }),
    // The dashboard's JSON API at /scheduler/api/… (see docs/dashboard.md), closed to
    // requests without the token main.ts prints.
    SchedulerDashboardModule.forRoot({ path: 'scheduler', guards: [TokenGuard] }),
  ],
  // Jobs are found on ordinary providers: @Scheduled methods, @Worker classes and @Workflow classes.
  providers: [
    ReportJobs,
    EmailWorker,
    OnboardingWorkflow,
    StartupService,
    PaymentsApi,
    ChargeWorker,
    PaymentsDemo,
    InvoiceWorker,
    CatalogSyncWorker,
    TokenGuard,
  ],
})
export class AppModule {}
