import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts a `redis-server` from the machine's binary on a free port of
 * 127.0.0.1, in a temporary directory, with `args` added (the default keeps
 * nothing on disk). Rejects, saying what is missing, when there is no binary.
 */
export async function startRedisServer(
  args: readonly string[] = ['--save', '', '--appendonly', 'no'],
): Promise<{ url: string; stop(): Promise<void>; restart(whileDown?: () => void): Promise<void> }> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'nestjs-scheduler-redis-'));
  let server = await launch(port, dir, args).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  const halt = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
    /**
     * Stops the server (SIGTERM: it writes what its settings keep), calls
     * `whileDown`, and starts it again on the same port and directory.
     */
    restart: async (whileDown?: () => void) => {
      await halt();
      whileDown?.();
      server = await launch(port, dir, args);
    },
  };
}

async function launch(port: number, dir: string, args: readonly string[]): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  server.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${output.join('')}`)), 10_000);
    server.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`the Redis tests need REDIS_URL or a redis-server binary on PATH (${error.message})`));
    });
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${String(code)}:\n${output.join('')}`));
    });
    server.stdout.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.join('').includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  server.removeAllListeners('exit');
  return server;
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
