import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  // On SIGTERM the scheduler stops planning and lets running steps finish.
  app.enableShutdownHooks();
  await app.listen(process.env.PORT ?? 3000);
  console.log(
    `Start a run: curl -X POST localhost:${process.env.PORT ?? 3000}/workflows/order -H 'content-type: application/json' -d '{"orderId":"A-1","giftWrap":true}'`,
  );
}
await bootstrap();
