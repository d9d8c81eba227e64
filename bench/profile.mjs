/**
 * Optional CPU profile of a measured window (the drain and batch-enqueue scenarios): set
 * BENCH_CPU_PROFILE=<file.cpuprofile>. Unlike `node --cpu-prof`, it leaves
 * out start-up and the enqueue phase, so the profile shows the worker only.
 * Open the file in Chrome DevTools (Performance) or any .cpuprofile viewer.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

export async function startProfile(file = process.env.BENCH_CPU_PROFILE) {
  if (!file) return null;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
