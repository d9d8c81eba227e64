import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap() {
  // A bad SCHEDULER_* variable stops here, with one error that lists every bad one.
  const app = await NestFactory.create(AppModule);
  // On SIGTERM the scheduler stops planning and lets running jobs finish.
  app.enableShutdownHooks();
  await app.listen(process.env.PORT ?? 3000);
  console.log(`Open http://localhost:${process.env.PORT ?? 3000}/config to see the scheduler's effective options and where each came from`);
}
await bootstrap();
