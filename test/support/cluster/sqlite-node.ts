// A scheduler node on a SQLite file, run as a child process by the SQLite
// e2e tests (compiled with the cluster node, see cluster.ts). It enqueues a
// `hold` job that starts at once and never finishes, a `record` job due in
// 3 s and a one-time runtime schedule due in 3 s, then prints `enqueued
// <hold id> <record id>`; `running <id>` when `hold` starts. The test kills it
// (SIGKILL) with `hold` running and the others waiting.
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

  @Scheduled({ name: 'record' })
  record(ctx: JobContext): void {
    process.stdout.write(`ran ${ctx.id}\n`);
  }
}

@Module({
  imports: [SchedulerModule.forRoot({ store: { type: 'sqlite', path }, pollInterval: '100ms', peer: { leaseTtl: '3s' } })],
  providers: [Jobs],
})
class NodeModule {}

const app = await NestFactory.createApplicationContext(NodeModule, { logger: false });
const scheduler = app.get(SchedulerService);
const due = new Date(Date.now() + 3_000);
const hold = await scheduler.enqueue('hold', { from: 'child' });
const later = await scheduler.enqueueAt('record', { from: 'child' }, due);
await scheduler.insert({ name: 'once', handler: 'record', at: due, args: { from: 'schedule' } });
process.stdout.write(`enqueued ${hold.id} ${later.id}\n`);
