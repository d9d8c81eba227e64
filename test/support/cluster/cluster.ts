import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, onTestFailed, onTestFinished } from 'vitest';
import { withClient } from '../postgres.js';
import type { NewJob } from '../../../lib/store/job.types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sources = join(root, 'test', 'support', 'cluster');
/** This test run's build (one vitest process: its workers share its pid as their parent's). */
const runBuild = join(root, 'dist', `.cluster-build-${process.ppid}`);
const bundled = join(runBuild, 'bundle');
/** The child scripts, each bundled with what it imports (see {@link buildClusterNode}). */
export const clusterScripts = {
  node: join(bundled, 'node.mjs'),
  sqliteNode: join(bundled, 'sqlite-node.mjs'),
  sqliteClaimer: join(bundled, 'sqlite-claimer.mjs'),
} as const;
const script = clusterScripts.node;

/**
 * Bundles the child scripts once per test run (rolldown, from their
 * TypeScript, with the library and what it imports: Nest, rxjs, the
 * drivers), so that children run plain JS from a few files: a child loads
 * ~20 modules instead of ~900, which takes its start from 1.7 s of CPU to
 * 0.7 s, and the multi-process tests start a few hundred children. Native
 * and optional modules stay imports. Spec files run in parallel workers of
 * one vitest process: the first takes the run's directory and builds, the
 * others wait for its marker (two builds writing at once could hand a child
 * a half-written file). Each run builds into a directory of its own, so a
 * second run at once in the same checkout never rebuilds under the first;
 * the builds of runs that have ended are removed.
 */
export async function buildClusterNode(): Promise<void> {
  const lock = runBuild;
  const done = join(lock, 'done');
  mkdirSync(join(root, 'dist'), { recursive: true });
  let builder = true;
  try {
    mkdirSync(lock);
  } catch {
    builder = false;
  }
  if (builder) {
    removeEndedRunsBuilds();
    await bundleClusterScripts();
    writeFileSync(done, '');
  } else {
    await waitUntil(() => existsSync(done), 110_000, 'the cluster node build of another spec file');
  }
  if (!existsSync(script)) throw new Error(`${script} was not built`);
}

/** The builds of test runs that have ended (their vitest process is gone): each run builds its own, so that two runs at once never rebuild under each other. */
function removeEndedRunsBuilds(): void {
  for (const entry of readdirSync(join(root, 'dist'))) {
    const pid = Number(/^\.cluster-build-(\d+)$/.exec(entry)?.[1]);
    if (!pid || pid === process.ppid) continue;
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(root, 'dist', entry), { recursive: true, force: true });
    }
  }
}

async function bundleClusterScripts(): Promise<void> {
  const { build } = await import('rolldown');
  // A chunk's name carries its hash: an earlier run's would stay beside this one's.
  rmSync(bundled, { recursive: true, force: true });
  await build({
    input: { node: join(sources, 'node.ts'), 'sqlite-node': join(sources, 'sqlite-node.ts'), 'sqlite-claimer': join(sources, 'sqlite-claimer.ts') },
    platform: 'node',
    // Legacy decorators with their metadata, as the library is compiled (Nest reads constructor parameter types).
    tsconfig: join(root, 'tsconfig.json'),
    // reflect-metadata first, as an import of its own: bundled, it could run after the decorators that read it.
    // better-sqlite3 is native; the rest are optional modules of Nest and the drivers that are not installed.
    external: [
      /^reflect-metadata$/,
      /^better-sqlite3$/,
      /^pg-native$/,
      /^@nestjs\/(microservices|websockets|platform-express)/,
      /^class-(transformer|validator)/,
    ],
    output: { dir: bundled, format: 'esm', entryFileNames: '[name].mjs', chunkFileNames: '[name]-[hash].mjs' },
    logLevel: 'warn',
  });
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
  /** The store's PostgreSQL, when not `url` (the ledger's): a proxy's, to cut the store alone. */
  storeUrl?: string;
  /** Keep the jobs in Redis (the ledger stays in PostgreSQL). */
  redis?: { url: string; keyPrefix: string };
  /** Keep the jobs in this SQLite file (the ledger stays in PostgreSQL). */
  sqlite?: { path: string; busyTimeout?: number };
  name: string;
  concurrency?: number;
  leaseTtl?: number;
  rescueAfter?: number;
  workMs?: number;
  /** Each `work` job then waits for an `open` row in the ledger before it finishes. */
  gated?: boolean;
  /** The `default` queue's `prefetch`. @default the scheduler's */
  prefetch?: number;
  cron?: boolean;
  shutdownGracePeriod?: number;
  startRuns?: number;
  /** The workflow of `startRuns` (see node.ts). @default 'ledgered' */
  startWorkflow?: 'ledgered' | 'fanout' | 'compensated';
  /** Cancels, with rollback, each run a `cancel` row of the ledger names. */
  canceller?: boolean;
  clockOffsetMs?: number;
  /** `afterMs` after it is ready, the node's wall clock (`Date.now()`) steps by `byMs` (see node.ts). */
  clockStep?: { afterMs: number; byMs: number };
  deadLetterAlerts?: boolean;
  enqueueRounds?: { go: string; args: { n: number }; unique: import('../../../lib/index.js').UniqueOption; count: number }[];
  breakerResetMs?: number;
  /** `successThreshold` of the `api` breaker (see node.ts). @default 1 */
  breakerProbes?: number;
  /** Milliseconds a `flaky` job that succeeds takes (see node.ts). @default 0 */
  flakyMs?: number;
  /** `rateLimits.jobs.limited`: `limit` jobs per `per` ms (with `by: 'queues'`, `rateLimits.queues.default`). */
  limited?: { limit: number; per: number; by?: 'jobs' | 'queues' };
  /** How long a `hold-lock` job holds the SQLite file's write lock (see node.ts). */
  holdMs?: number;
  /** How long a `spin` job's first attempt blocks the node's event loop, in ms (see node.ts). @default 0 */
  spinMs?: number;
  /** Registers the `warmup` `@reboot` job (see node.ts). */
  reboot?: boolean;
  /** Registers the `news` job, which nodes without it do not know (see node.ts). */
  news?: boolean;
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
    c.query(
      `CREATE SCHEMA IF NOT EXISTS "${schema}"; CREATE TABLE "${schema}".ledger (id bigserial PRIMARY KEY, kind text NOT NULL, job_id text, tick timestamptz, node text NOT NULL, attempt int, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    ),
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

/**
 * The times (epoch ms) of an every-second schedule's ticks: each at most
 * once, and one a second from the first to the last, none missing.
 */
export function expectEverySecond(times: readonly number[], atLeast = 2): void {
  const sorted = [...times].sort((a, b) => a - b);
  expect(new Set(sorted).size).toBe(sorted.length);
  expect(sorted.length).toBeGreaterThanOrEqual(atLeast);
  expect(sorted.length).toBe((sorted.at(-1)! - sorted[0]!) / 1000 + 1);
}

/** Kills every node still running (test clean-up). */
export async function killAll(nodes: ClusterNode[]): Promise<void> {
  for (const node of nodes) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
}

/** A job to insert: a `work` job with `{ n }` args unless said otherwise. */
export interface ClusterJob {
  name?: string;
  n: number;
  priority?: number;
  maxAttempts?: number;
  pinnedNode?: string;
  /** Due this many ms from now. @default 0 */
  delayMs?: number;
}

/** The store's insert input for jobs of the cluster tests' nodes, due now unless delayed. */
export function clusterJobInputs(jobs: readonly ClusterJob[]): NewJob[] {
  const now = new Date();
  return jobs.map((job) => ({
    name: job.name ?? 'work',
    queue: 'default',
    args: { n: job.n },
    priority: job.priority ?? 0,
    maxAttempts: job.maxAttempts ?? 4,
    timeout: null,
    runAt: new Date(now.getTime() + (job.delayMs ?? 0)),
    pinnedNode: job.pinnedNode ?? null,
  }));
}

export async function insertJobs(url: string, schema: string, jobs: readonly ClusterJob[]): Promise<void> {
  const { openPostgres } = await import('../../../lib/postgres/postgres.connection.js');
  const { PostgresStore } = await import('../../../lib/postgres/postgres.store.js');
  const ctx = await openPostgres({ type: 'postgres', url, schema }, 'test');
  const store = new PostgresStore(ctx, { type: 'postgres', url, schema });
  await store.init();
  await store.insert(clusterJobInputs(jobs));
  await store.close();
}

/** Inserts `count` work jobs (4 attempts each). */
export function enqueueWork(url: string, schema: string, count: number): Promise<void> {
  return insertJobs(
    url,
    schema,
    Array.from({ length: count }, (_, n) => ({ n })),
  );
}

/** What a cluster spec file uses: nodes it starts (killed after the file), and reads of the database. */
export interface ClusterSuite {
  start(settings: NodeSettings): ClusterNode;
  rows(url: string, sql: string, params?: unknown[]): Promise<Record<string, any>[]>;
}

/** Call at the top of a describe block: builds the node script once; a node is killed when its test finishes, passed or failed. */
export function useCluster(): ClusterSuite {
  const nodes: ClusterNode[] = [];
  beforeAll(() => buildClusterNode(), 120_000);
  afterAll(() => killAll(nodes));
  return {
    start(settings) {
      const node = startNode(settings);
      nodes.push(node);
      onTestFinished(() => killAll([node]));
      // A failure under load in CI is read from its log alone: what each node said comes with it.
      onTestFailed(() => console.error(`--- ${node.name}: last lines of its output ---\n${[...node.output.slice(-80), ...node.errors].join('\n')}`));
      return node;
    },
    rows: (url, sql, params = []) => withClient(url, async (c) => (await c.query(sql, params)).rows),
  };
}
