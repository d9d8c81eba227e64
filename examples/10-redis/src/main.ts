import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  // On SIGTERM the node stops claiming, lets running jobs finish and hands its leader lease over.
  app.enableShutdownHooks();
  await app.listen(process.env.PORT ?? 3000);
  const port = process.env.PORT ?? 3000;
  console.log(`Ask for a sync: curl -X POST localhost:${port}/accounts/1/sync; see the queue: curl localhost:${port}/sync`);
}
await bootstrap();
