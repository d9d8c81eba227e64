/**
 * 10,000 registered schedules: how long bootstrap takes (discovery,
 * validation, compiling every schedule, loading the planner) and how much CPU
 * the process uses while idle between ticks. Memory store; one process.
 *
 *   node bench/schedules.mjs [--count 10000] [--idle 10] [--settle 5]
 */
import { performance } from 'node:perf_hooks';
import { Injectable, Module, NestFactory, SchedulerModule, Scheduled, decorateMethod } from './nest.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('count', 10_000);
const idleSeconds = arg('idle', 10);
// Bootstrap leaves garbage and code to optimise; V8 works that off in the
// first seconds (on background threads, which process.cpuUsage counts).
const settleSeconds = arg('settle', 5);

class ManySchedules {}
for (let i = 0; i < count; i++) {
  ManySchedules.prototype[`job${i}`] = function () {};
  // A mix of hourly-and-slower crons and intervals, none due during the idle window.
  const options = i % 2 === 0 ? { cron: `${i % 60} ${i % 24} * * *`, zone: i % 4 === 0 ? 'America/New_York' : 'Etc/UTC' } : { every: `${(i % 50) + 2}h` };
  decorateMethod(Scheduled({ name: `s${i}`, ...options }), ManySchedules, `job${i}`);
}
Injectable()(ManySchedules);
class AppModule {}
Module({ imports: [SchedulerModule.forRoot({ queues: { default: 10 } })], providers: [ManySchedules] })(AppModule);

const t0 = performance.now();
const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
const bootMs = performance.now() - t0;

await new Promise((resolve) => setTimeout(resolve, settleSeconds * 1000));
const cpu0 = process.cpuUsage();
const w0 = performance.now();
await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - w0;
await app.close();
const result = {
  schedules: count,
  bootstrapMs: Math.round(bootMs),
  idleCpuPercent: Number((((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(2)),
  idleSeconds,
  settleSeconds,
};
console.log(JSON.stringify(result));
