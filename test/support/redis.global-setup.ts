import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real Redis for the tests: `REDIS_URL` when it is set (CI points it at the
 * machine's server); otherwise a `redis-server` from the machine's binary,
 * started here on a free port for the whole run (its URL is inherited by
 * the test workers) and stopped after. Never skipped: without either, the
 * run fails here saying so.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.REDIS_URL) return async () => {};
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'nestjs-scheduler-redis-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  server.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  server.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${output.join('')}`)), 10_000);
    server.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`the Redis tests need REDIS_URL or a redis-server binary on PATH (${error.message})`));
    });
    server.stdout.on('data', () => {
      if (output.join('').includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  process.env.REDIS_URL = `redis://127.0.0.1:${port}`;
  return async () => {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
