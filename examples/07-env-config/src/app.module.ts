import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { SchedulerModule, type SchedulerModuleOptions } from 'nestjs-scheduler';
import { schedulerEnvConfig, withEnv } from 'nestjs-scheduler/config';
import { ConfigController } from './config.controller.js';
import { ReportsJobs } from './reports.jobs.js';

/**
 * What the code needs whatever the environment says: its queues (the jobs name them) and a
 * tighter timeout. Code wins over SCHEDULER_* variables, which win over the defaults.
 */
const codeOptions: SchedulerModuleOptions = {
  queues: { default: 5, reports: 1 },
  defaults: { timeout: '30s' },
};

/**
 * `asProvider()` imports `ConfigModule.forFeature(schedulerEnvConfig)` and injects the options it
 * read from SCHEDULER_* variables when the app starts (after `.env` was loaded); a bad variable
 * fails the bootstrap there. Exported so that tests can swap it (`overrideModule`).
 */
export const schedulerModule = SchedulerModule.forRootAsync({
  ...schedulerEnvConfig.asProvider(),
  useFactory: (fromEnv: SchedulerModuleOptions) => withEnv(codeOptions, fromEnv),
});

@Module({
  imports: [
    // Loads .env into process.env (a variable already set wins) and gives ConfigService to every module.
    ConfigModule.forRoot({ envFilePath: '.env', isGlobal: true }),
    schedulerModule,
  ],
  controllers: [ConfigController],
  providers: [ReportsJobs],
})
export class AppModule {}
