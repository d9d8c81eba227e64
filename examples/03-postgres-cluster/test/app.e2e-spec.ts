import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, startNode, waitUntil, type NodeProcess } from './node-process.js';

const databaseUrl = process.env.DATABASE_URL;

/** Runs one statement on a short-lived connection. */
async function sql(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** The ticks a node ran, from its log lines `tick <ISO time> ran on <node>`. */
const ticksOf = (node: NodeProcess) =>
  node.lines.flatMap((line) => {
    const match = / tick (\S+) ran on (\S+)/.exec(line);
    return match ? [{ at: match[1]!, node: match[2]! }] : [];
  });

/** The thumbnails a node rendered, from its log lines `thumbnail <n> rendered on <node>`. */
const thumbnailsOf = (node: NodeProcess) =>
  node.lines.flatMap((line) => {
    const match = / thumbnail (\d+) rendered on /.exec(line);
    return match ? [Number(match[1])] : [];
  });

describe('two nodes of the app on PostgreSQL (child processes, real signals)', () => {
  const schema = `example03_${randomBytes(4).toString('hex')}`;
  const nodes: NodeProcess[] = [];
  let build: ReturnType<typeof buildApp>;
  const start = async (name: string) => {
    const node = await startNode(build.main, name, { DATABASE_URL: databaseUrl!, DATABASE_SCHEMA: schema });
    nodes.push(node);
    return node;
  };

  beforeAll(async () => {
    if (!databaseUrl) throw new Error('set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test): the test creates a schema of its own there');
    build = buildApp();
    await sql(`CREATE SCHEMA "${schema}"`);
  }, 60_000);

  afterAll(async () => {
    for (const node of nodes) if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.exited));
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    build?.remove();
  });

  it('one leader plans each tick once, both nodes run jobs, and on SIGTERM the other leads with no tick lost or run twice', async () => {
    const a = await start('node-a');
    await a.waitFor(/node-a leads: it plans the cron ticks/);
    const b = await start('node-b');

    expect(await a.get('/cluster')).toMatchObject({ node: 'node-a', leader: 'node-a', leading: true });
    expect(await b.get('/cluster')).toMatchObject({ node: 'node-b', leader: 'node-a', leading: false });

    // Six half-second jobs enqueued on node-b, two at a time on each node: both take some.
    expect(await b.post('/thumbnails?count=6')).toEqual({ enqueued: 6 });
    await waitUntil(() => thumbnailsOf(a).length + thumbnailsOf(b).length === 6, 'the six thumbnails');
    expect([...thumbnailsOf(a), ...thumbnailsOf(b)].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(thumbnailsOf(a)).not.toEqual([]);
    expect(thumbnailsOf(b)).not.toEqual([]);

    // The leader drains on SIGTERM: it hands the lease over first, and exits by itself.
    await waitUntil(() => ticksOf(a).length + ticksOf(b).length >= 3, 'three ticks with node-a leading');
    a.child.kill('SIGTERM');
    await b.waitFor(/node-b leads: it plans the cron ticks/, 5_000);
    expect(await a.exited).toEqual({ code: null, signal: 'SIGTERM' });
    const lastOfA = ticksOf(a).at(-1)!.at;
    expect(await b.get('/cluster')).toMatchObject({ node: 'node-b', leader: 'node-b', leading: true });

    await waitUntil(() => ticksOf(b).filter((t) => t.at > lastOfA).length >= 3, 'three ticks after the hand-over');
    b.child.kill('SIGTERM');
    expect(await b.exited).toEqual({ code: null, signal: 'SIGTERM' });

    // Every second from the first tick to the last ran once, on one node or the other: none lost, none twice.
    const ran = [...ticksOf(a), ...ticksOf(b)].map((t) => t.at).sort();
    const first = Date.parse(ran[0]!);
    const seconds = (Date.parse(ran.at(-1)!) - first) / 1000 + 1;
    expect(ran).toEqual(Array.from({ length: seconds }, (_, i) => new Date(first + i * 1000).toISOString()));
    expect(a.stderr.join('') + b.stderr.join('')).toBe('');
  }, 45_000);
});
