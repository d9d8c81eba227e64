// First: the OpenTelemetry SDK must be registered before the scheduler starts.
import './telemetry.js';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  // On SIGTERM the scheduler drains its queues; readiness turns down first.
  app.enableShutdownHooks();
  await app.listen(process.env.PORT ?? 3000);
  const url = `http://localhost:${process.env.PORT ?? 3000}`;
  console.log(`Probes: ${url}/health/live, ${url}/health/ready, ${url}/health/startup; metrics: ${url}/metrics-snapshot`);
}
await bootstrap();
