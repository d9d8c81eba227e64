import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../lib/postgres/postgres.connection.js';
import { StoreUnavailableError } from '../../lib/postgres/postgres.errors.js';
import { PostgresStore } from '../../lib/postgres/postgres.store.js';
import type { PostgresStoreOptions } from '../../lib/store/store-options.js';
import { pendingStep } from '../../lib/store/workflow-runs.js';
import type { NewWorkflowRun } from '../../lib/workflow/workflow.types.js';
import { createTestSchema, withClient } from '../support/postgres.js';
import { Outage } from '../support/postgres/outage.js';

// What the conformance suite cannot see: the readiness gate, how steps are
// kept in jsonb, serialisation across pools (nodes), and a connection lost
// inside updateRun's transaction.

const BASE = new Date('2026-01-01T00:00:00Z');
const step = pendingStep;
const newRun = (overrides: Partial<NewWorkflowRun> = {}): NewWorkflowRun => ({
  workflow: 'w',
  version: 'v1',
  state: 'running',
  context: {},
  steps: { first: step() },
  trace: null,
  runAt: null,
  ...overrides,
});

let schema: Awaited<ReturnType<typeof createTestSchema>>;
beforeAll(async () => {
  schema = await createTestSchema('runs');
});
afterAll(async () => {
  await schema.drop();
});

async function openStore(url = schema.url, init = true): Promise<PostgresStore> {
  const options: PostgresStoreOptions = { type: 'postgres', url, schema: schema.schema, poolSize: 3 };
  const store = new PostgresStore(await openPostgres(options, 'node-test'), options);
  if (init) await store.init();
  return store;
}

describe('PostgreSQL workflow runs', () => {
  it('reject with StoreUnavailableError until the store is ready', async () => {
    const store = await openStore(schema.url, false);
    const calls = [store.createRun(newRun(), BASE), store.getRun('1'), store.updateRun('1', BASE, () => null), store.listRuns({}), store.deleteRuns(BASE, 10)];
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(StoreUnavailableError);
    await store.close();
  });

  it('keeps step dates as ISO text in jsonb', async () => {
    const store = await openStore();
    const run = await store.createRun(newRun({ steps: { first: step({ startedAt: new Date(BASE.getTime() + 1_500) }) } }), BASE);
    const { rows } = await withClient(schema.url, (c) =>
      c.query(
        `SELECT steps -> 'first' ->> 'startedAt' AS started, steps -> 'first' -> 'finishedAt' AS finished
        FROM "${schema.schema}".scheduler_workflow_runs WHERE id = $1`,
        [run.id],
      ),
    );
    expect(rows).toEqual([{ started: '2026-01-01T00:00:01.500Z', finished: null }]);
    await store.close();
  });

  it('serialises updateRun across nodes (separate pools)', async () => {
    const nodes = await Promise.all([openStore(), openStore(), openStore()]);
    const run = await nodes[0]!.createRun(newRun(), BASE);
    await Promise.all(Array.from({ length: 30 }, (_, i) => nodes[i % 3]!.updateRun(run.id, BASE, (r) => ({ ...r, seq: r.seq + 1 }))));
    expect((await nodes[1]!.getRun(run.id))!.seq).toBe(30);
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('rolls back and rejects with StoreUnavailableError when the connection drops inside updateRun', async () => {
    const outage = new Outage(schema.url);
    const url = new URL(schema.url);
    url.host = `127.0.0.1:${await outage.reservePort()}`;
    await outage.up();
    const store = await openStore(url.toString());
    const direct = await openStore();
    const run = await store.createRun(newRun(), BASE);

    // mutate runs while the row is locked: cut the connection right there.
    const update = store.updateRun(run.id, BASE, (r) => {
      void outage.down();
      return { ...r, seq: 99 };
    });
    await expect(update).rejects.toBeInstanceOf(StoreUnavailableError);
    // The server rolled back and let the row go: another node updates it.
    expect((await direct.updateRun(run.id, BASE, (r) => ({ ...r, seq: r.seq + 1 })))!.seq).toBe(1);
    // While the database is unreachable, the call rejects the same way.
    await expect(store.updateRun(run.id, BASE, () => null)).rejects.toBeInstanceOf(StoreUnavailableError);

    await outage.up();
    expect((await store.updateRun(run.id, BASE, (r) => ({ ...r, seq: r.seq + 1 })))!.seq).toBe(2);
    await Promise.all([store.close(), direct.close()]);
    await outage.down();
  });
});
