/**
 * The sample's entry point: `npm run sample`.
 *
 * An HTTP app that serves the scheduler's dashboard API on PORT (default
 * 3000), guarded by a token it prints. Stop it with Ctrl+C, or set
 * SAMPLE_RUN_FOR=<ms> to make it close itself.
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { TokenGuard } from './token.guard.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);

  // SIGINT / SIGTERM → app.close(): the scheduler stops planning and claiming,
  // lets running jobs finish within `shutdownGracePeriod`, then stops.
  app.enableShutdownHooks();

  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  const token = app.get(TokenGuard).token;
  Logger.log(`dashboard: open http://127.0.0.1:${port}/scheduler?token=${token}`, 'Sample');
  Logger.log(`dashboard API: curl -H 'Authorization: Bearer ${token}' http://127.0.0.1:${port}/scheduler/api/overview`, 'Sample');

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
