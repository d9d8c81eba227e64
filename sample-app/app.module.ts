import { Module } from '@nestjs/common';
// In your app: import { SchedulerModule } from 'nestjs-scheduler';
import { SchedulerModule } from '../lib/index.js';
import { ChargeWorker } from './charge.worker.js';
import { EmailWorker } from './email.worker.js';
import { OnboardingWorkflow } from './onboarding.workflow.js';
import { ReportJobs } from './report.jobs.js';
import { StartupService } from './startup.service.js';

@Module({
  imports: [
    // Global: SchedulerService can be injected anywhere.
    SchedulerModule.forRoot({
      // 'memory' (the default): jobs live in this process, nothing survives a restart.
      // `npm run sample:postgres` sets SAMPLE_STORE=postgres: jobs live in PostgreSQL
      // (DATABASE_URL), survive restarts, and many instances share them.
      store:
        process.env.SAMPLE_STORE === 'postgres'
          ? { type: 'postgres', url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', schema: 'scheduler_sample' }
          : 'memory',
      queues: { default: 5, emails: 2, billing: 2 }, // queue name → how many of its jobs run at once on this node
      // Token buckets: at most 2 charges start per 2 s (on PostgreSQL, across every instance).
      rateLimits: { queues: { billing: { limit: 2, per: '2s' } } },
    }),
  ],
  // Jobs are found on ordinary providers: @Scheduled methods, @Worker classes and @Workflow classes.
  providers: [ReportJobs, EmailWorker, ChargeWorker, OnboardingWorkflow, StartupService],
})
export class AppModule {}
