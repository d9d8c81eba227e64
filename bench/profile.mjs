/**
 * Optional profiles of a measured window (the drain and batch-enqueue
 * scenarios). Unlike `node --cpu-prof`, they leave out start-up and the
 * enqueue phase, so they show the worker only.
 * - BENCH_CPU_PROFILE=<file.cpuprofile>: a CPU profile (open it in Chrome
 *   DevTools, Performance, or any .cpuprofile viewer).
 * - BENCH_HEAP_PROFILE=<file.heapprofile>: a sampling allocation profile
 *   (every 1 KiB allocated, objects collected since included), for
 *   DevTools' Memory tab: where the garbage the collector works on comes from.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

export async function startProfile(cpuFile = process.env.BENCH_CPU_PROFILE, heapFile = process.env.BENCH_HEAP_PROFILE) {
  if (!cpuFile && !heapFile) return null;
  const session = new Session();
  session.connect();
  if (cpuFile) {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  }
  if (heapFile) {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  return {
    async stop() {
      if (cpuFile) {
        const { profile } = await session.post('Profiler.stop');
        await writeFile(cpuFile, JSON.stringify(profile));
      }
      if (heapFile) {
        const { profile } = await session.post('HeapProfiler.stopSampling');
        await writeFile(heapFile, JSON.stringify(profile));
      }
      session.disconnect();
    },
  };
}
