import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const exampleDir = resolve(fileURLToPath(new URL('..', import.meta.url)));
const repoDir = resolve(exampleDir, '..', '..');

/** Transpiles every `.ts` file under `from` to `.js` under `to` (same tree), with the compiler options of `tsconfig`, as ES modules. */
function transpileTree(from: string, to: string, tsconfig: string): void {
  const { config } = ts.readConfigFile(tsconfig, (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, dirname(tsconfig));
  const compilerOptions = { ...options, module: ts.ModuleKind.ESNext, declaration: false, sourceMap: false, incremental: false };
  for (const file of readdirSync(from, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts') || file.endsWith('.spec.ts')) continue;
    const out = join(to, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, ts.transpileModule(readFileSync(join(from, file), 'utf8'), { compilerOptions, fileName: file }).outputText);
  }
}

/**
 * The example compiled to plain JS in a temporary directory, for child
 * processes: `app/main.js`, and a `node_modules` where `nestjs-scheduler`
 * is what this run tests. Run from the repository (`npx vitest run
 * examples/03-postgres-cluster`): this checkout's `lib/`, compiled into
 * `node_modules/nestjs-scheduler`, beside links to the repository's other
 * packages. Run from the example (`npm test`): the installed package.
 */
export function buildApp(): { main: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'example-03-'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  transpileTree(join(exampleDir, 'src'), join(dir, 'app'), join(exampleDir, 'tsconfig.build.json'));
  if (process.cwd() === exampleDir) {
    symlinkSync(join(exampleDir, 'node_modules'), join(dir, 'node_modules'), 'dir');
  } else {
    const modules = join(dir, 'node_modules');
    mkdirSync(modules);
    for (const name of readdirSync(join(repoDir, 'node_modules'))) {
      if (!name.startsWith('.')) symlinkSync(join(repoDir, 'node_modules', name), join(modules, name), 'dir');
    }
    const pkg = join(modules, 'nestjs-scheduler');
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'package.json'), readFileSync(join(repoDir, 'package.json')));
    transpileTree(join(repoDir, 'lib'), join(pkg, 'dist', 'lib'), join(repoDir, 'tsconfig.build.json'));
  }
  return { main: join(dir, 'app', 'main.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A free TCP port on this machine. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** One node of the app, a child process. */
export interface NodeProcess {
  name: string;
  child: ChildProcess;
  /** Its stdout, line by line. */
  lines: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once a line of its stdout matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  get(path: string): Promise<unknown>;
  post(path: string): Promise<unknown>;
}

/** Starts `node main.js` with this node's name, port and the database settings; resolves once it listens. */
export async function startNode(main: string, name: string, env: Record<string, string>): Promise<NodeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...env, NODE_NAME: name, PORT: String(port), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: { pattern: RegExp; done: (line: string) => void }[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) waiter.done(line);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  const waitFor = (pattern: RegExp, timeoutMs = 15_000) => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr.join('')}`)), timeoutMs);
      waiters.push({ pattern, done: (line) => (clearTimeout(timer), done(line)) });
    });
  };
  const http = async (method: string, path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
    if (!response.ok) throw new Error(`${name}: ${method} ${path} answered ${response.status}`);
    return response.json() as Promise<unknown>;
  };
  await waitFor(new RegExp(`^${name} listening on`));
  return { name, child, lines, stderr, exited, waitFor, get: (path) => http('GET', path), post: (path) => http('POST', path) };
}

/** Polls `check` (every 50 ms of real time) until it holds. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; !(await check()); await new Promise((done) => setTimeout(done, 50))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
  }
}
