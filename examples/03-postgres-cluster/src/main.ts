import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { nodeName } from './node-name.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  // On SIGTERM the node hands its leader lease over at once, stops claiming, and lets running jobs finish.
  app.enableShutdownHooks();
  const port = process.env.PORT ?? 3000;
  await app.listen(port);
  console.log(`${nodeName} listening on http://localhost:${port} (GET /cluster, POST /thumbnails?count=6)`);
}
await bootstrap();
