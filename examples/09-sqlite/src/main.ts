import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  // On SIGTERM the scheduler stops claiming and lets running jobs finish; what is queued stays in the file.
  app.enableShutdownHooks();
  await app.listen(process.env.PORT ?? 3000);
  console.log(`Jobs are kept in ${process.env.SQLITE_FILE ?? 'shop.db'}. Place an order:`);
  console.log(`curl -X POST localhost:${process.env.PORT ?? 3000}/orders -H 'content-type: application/json' -d '{"sku":"notebook","quantity":2}'`);
}
await bootstrap();
