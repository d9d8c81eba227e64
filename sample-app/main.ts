/**
 * The sample's entry point: `npm run sample`.
 *
 * A plain application context (no HTTP server): the scheduler's timers keep
 * the process alive. Stop it with Ctrl+C, or set SAMPLE_RUN_FOR=<ms> to make
 * it close itself (that is what CI does: `SAMPLE_RUN_FOR=9000 npm run sample`).
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule);

  // SIGINT / SIGTERM → app.close(): the scheduler stops planning and claiming,
  // lets running jobs finish within `shutdownGracePeriod`, then stops.
  app.enableShutdownHooks();

  const runFor = Number(process.env.SAMPLE_RUN_FOR);
  if (runFor > 0) {
    setTimeout(() => {
      Logger.log(`SAMPLE_RUN_FOR=${runFor} elapsed: closing`, 'Sample');
      // Nothing is left running after close(), so the process exits by itself (code 0).
      void app.close();
    }, runFor);
  }
}

bootstrap().catch((error: unknown) => {
  // A bad cron, zone, duration or duplicate job name stops bootstrap here, naming ClassName.method.
  console.error(error);
  process.exit(1);
});
