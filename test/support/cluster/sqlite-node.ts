// A scheduler node on a SQLite file, run as a child process by the SQLite
// e2e tests (compiled with the cluster node, see cluster.ts): it enqueues one
// `hold` job, prints `running <id>` when the job starts, and never finishes
// it, so the test can kill the process with the job running.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Scheduled, SchedulerModule, SchedulerService, type JobContext } from '../../../lib/index.js';

const path = process.env.SQLITE_PATH;
if (!path) throw new Error('SQLITE_PATH is not set');

@Injectable()
class Jobs {
  @Scheduled({ name: 'hold' })
  hold(ctx: JobContext): Promise<void> {
    process.stdout.write(`running ${ctx.id}\n`);
    return new Promise<void>(() => {});
  }
}

@Module({
  imports: [SchedulerModule.forRoot({ store: { type: 'sqlite', path }, pollInterval: '100ms', peer: { leaseTtl: '3s' } })],
  providers: [Jobs],
})
class NodeModule {}

const app = await NestFactory.createApplicationContext(NodeModule, { logger: false });
await app.get(SchedulerService).enqueue('hold', { from: 'child' });
