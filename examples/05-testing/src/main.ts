import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  // On SIGTERM the scheduler stops planning and lets running jobs finish.
  app.enableShutdownHooks();
  await app.listen(process.env.PORT ?? 3000);
  console.log(`POST http://localhost:${process.env.PORT ?? 3000}/payments to charge; POST /webhooks/payments/:id to confirm`);
}
await bootstrap();
