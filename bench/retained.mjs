/**
 * Heap the memory store keeps per job: queued, and finished (completed jobs
 * kept as history). Growth after forced full collections of the V8 heap plus
 * ArrayBuffer backing stores (typed arrays keep their contents outside the
 * V8 heap), divided by the number of jobs; one process, no peers.
 *
 *   node bench/retained.mjs [--jobs 100000] [--mode store|module|both]
 *
 * - `store`: through the MemoryStore API (insert, claim, complete in calls of
 *   1,000): what the store itself keeps, queued and completed.
 * - `module`: a Nest application context on the memory store drains the jobs
 *   (`enqueueMany` in calls of 1,000, concurrency 50): what a running node
 *   keeps once they are history.
 *
 * Needs `--expose-gc`; without it, the script runs itself again with it.
 */
import { spawnSync } from 'node:child_process';
import { getHeapStatistics } from 'node:v8';
import { parseArgs } from 'node:util';
import { rootDist, sleep, waitFor } from './common.mjs';

if (typeof globalThis.gc !== 'function') {
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '100000' }, mode: { type: 'string', default: 'both' } } });
const jobs = Number(values.jobs);
const BATCH = 1000;

/** Heap in use after full collections (several: weak references and finalizers settle over more than one), ArrayBuffers included. */
async function heapUsed() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await sleep(10);
  }
  return getHeapStatistics().used_heap_size + process.memoryUsage().arrayBuffers;
}

const perJob = (bytes) => Math.round(bytes / jobs);

async function throughStore() {
  const { MemoryStore } = await import(rootDist('lib/store/index.js'));
  const node = 'bench-node';
  const run = async (store, count) => {
    const now = new Date();
    for (let i = 0; i < count; i += BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(count, i + BATCH); j++) {
        batch.push({ name: 'noop', queue: 'default', args: { i: j }, priority: 0, maxAttempts: 3, timeout: null, runAt: now });
      }
      await store.insert(batch);
    }
  };
  const drain = async (store) => {
    for (;;) {
      const claimed = await store.claim({ queue: 'default', limit: BATCH, node, now: new Date() });
      if (claimed.length === 0) return;
      const now = new Date();
      for (const job of claimed) await store.complete({ id: job.id, attempt: job.attempt }, null, now);
    }
  };
  // A first, small store warms the code paths up, so the baseline includes the compiled code.
  const warm = new MemoryStore();
  await run(warm, 5 * BATCH);
  await drain(warm);
  const base = await heapUsed();
  const store = new MemoryStore();
  await run(store, jobs);
  const queued = (await heapUsed()) - base;
  await drain(store);
  const retained = (await heapUsed()) - base;
  const counts = await store.queueCounts(new Date());
  if (counts[0]?.completed !== jobs) throw new Error(`expected ${jobs} completed jobs, found ${JSON.stringify(counts)}`);
  return { queuedBytesPerJob: perJob(queued), retainedBytesPerJob: perJob(retained) };
}

async function throughModule() {
  const { Injectable, Module, NestFactory, SchedulerModule, SchedulerService, Scheduled, decorateMethod } = await import('./nest.mjs');
  class BenchJobs {
    run() {}
  }
  decorateMethod(Scheduled({ name: 'noop' }), BenchJobs, 'run');
  Injectable()(BenchJobs);
  class BenchModule {}
  Module({
    imports: [SchedulerModule.forRoot({ store: 'memory', queues: { default: 50 }, pollInterval: '1s' })],
    providers: [BenchJobs],
  })(BenchModule);
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
  const scheduler = app.get(SchedulerService);
  const drain = async (count, from) => {
    for (let i = 0; i < count; i += BATCH) {
      await scheduler.enqueueMany(
        'noop',
        Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => ({ i: from + i + k })),
      );
    }
    await waitFor(
      async () => {
        const s = await scheduler.queueStats('default');
        return s.available + s.scheduled + s.running === 0;
      },
      { everyMs: 5, what: 'the drain' },
    );
  };
  await drain(5 * BATCH, 0);
  const base = await heapUsed();
  await drain(jobs, 5 * BATCH);
  const retained = (await heapUsed()) - base;
  await app.close();
  return { retainedBytesPerJob: perJob(retained) };
}

const result = { jobs };
if (values.mode !== 'module') result.store = await throughStore();
if (values.mode !== 'store') result.module = await throughModule();
console.log(JSON.stringify(result));
