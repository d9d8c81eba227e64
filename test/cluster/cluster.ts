import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { withClient } from '../support/postgres.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'dist', 'test', 'cluster', 'node.js');

/** Compiles the node script (and the library) once, so children run plain JS. */
export function buildClusterNode(): void {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'test', 'cluster', 'tsconfig.json')], { stdio: 'inherit' });
  if (!existsSync(script)) throw new Error(`${script} was not built`);
}

/** One running child node. */
export interface ClusterNode {
  name: string;
  child: ChildProcess;
  output: string[];
  errors: string[];
  exited: Promise<number | null>;
  waitFor(line: string, timeoutMs?: number): Promise<void>;
}

/** Settings of a node (see node.ts). */
export interface NodeSettings {
  url: string;
  schema: string;
  name: string;
  concurrency?: number;
  leaseTtl?: number;
  rescueAfter?: number;
  workMs?: number;
  cron?: boolean;
  shutdownGracePeriod?: number;
  startRuns?: number;
}

/** Starts a node as a child process. */
export function startNode(settings: NodeSettings): ClusterNode {
  const config = { concurrency: 4, leaseTtl: 2_000, rescueAfter: 3_000, workMs: 0, cron: false, shutdownGracePeriod: 5_000, ...settings };
  const child = spawn(process.execPath, [script], { env: { ...process.env, NODE_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const errors: string[] = [];
  const waiters: { line: string; resolve: () => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      output.push(line);
      for (const w of waiters.filter((x) => line.includes(x.line))) w.resolve();
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => errors.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    name: settings.name,
    child,
    output,
    errors,
    exited,
    waitFor(line, timeoutMs = 15_000) {
      if (output.some((l) => l.includes(line))) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${settings.name}: no "${line}" within ${timeoutMs} ms; stderr: ${errors.join('')}`)), timeoutMs);
        waiters.push({ line, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

/** Creates the ledger table the nodes write to. */
export async function createLedger(url: string, schema: string): Promise<void> {
  await withClient(url, (c) =>
    c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"; CREATE TABLE "${schema}".ledger (id bigserial PRIMARY KEY, kind text NOT NULL, job_id text, tick timestamptz, node text NOT NULL, attempt int, at timestamptz NOT NULL DEFAULT clock_timestamp())`),
  );
}

/** Polls `check` until it returns true. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Kills every node still running (test clean-up). */
export async function killAll(nodes: ClusterNode[]): Promise<void> {
  for (const node of nodes) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
}
