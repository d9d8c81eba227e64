import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { PostgresNotifier } from '../../lib/postgres/postgres.notifier.js';
import { PostgresPeer, type PostgresPeerOptions } from '../../lib/postgres/postgres.peer.js';
import { createTestSchema, withClient } from '../support/postgres.js';
import { createTestContext, ensureLeaseTable, type TestContext } from '../support/postgres/context.js';
import { sleep, trackTimers, waitFor } from '../support/wait.js';

describe('PostgresPeer', () => {
  let url: string;
  let schema: string;
  let drop: () => Promise<void>;
  let leases: string;
  let cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    ({ url, schema, drop } = await createTestSchema('peer'));
    await ensureLeaseTable(url, schema);
    leases = `"${schema}"."scheduler_leases"`;
  });
  beforeEach(() => sql(`DELETE FROM ${leases}`));
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });
  afterAll(() => drop());

  function sql(text: string, values: unknown[] = []) {
    return withClient(url, (c) => c.query(text, values));
  }

  /** A started peer on its own context; `changes` records its onChange calls. */
  async function peer(node: string, options: Partial<PostgresPeerOptions> & { leaseTtl: number; withNotifier?: boolean }) {
    const ctx: TestContext = createTestContext(url, schema, node, { applicationName: `peer-${schema}-${node}` });
    const notifier = options.withNotifier ? new PostgresNotifier(ctx, { ready: () => true }) : undefined;
    await notifier?.start();
    const p = new PostgresPeer(ctx, { eligible: true, ready: () => true, notifier, ...options });
    const changes: boolean[] = [];
    p.onChange((leader) => changes.push(leader));
    cleanup.push(async () => {
      await p.stop();
      await notifier?.stop();
      await ctx.close();
    });
    await p.start();
    return Object.assign(p, { node, changes });
  }

  const leaders = <P extends PostgresPeer>(peers: P[]) => peers.filter((p) => p.isLeader());

  it('elects exactly one leader among three, and all agree who it is', async () => {
    // A lease long enough that a loaded machine's slow renewal does not hand it over while the test samples.
    const peers = await Promise.all(['a', 'b', 'c'].map((n) => peer(n, { leaseTtl: 6_000 })));
    await waitFor(() => leaders(peers).length === 1, 3_000, 'a leader');
    for (let sample = 0; sample < 5; sample++) {
      const [leader, ...others] = leaders(peers);
      expect(others).toEqual([]);
      const seen = await Promise.all(peers.map((p) => p.leaderNode()));
      expect(seen).toEqual(peers.map(() => leader.node));
      await sleep(250);
    }
    // Renewals kept the same leader: nobody changed their mind.
    expect(peers.map((p) => p.changes.length).sort((a, b) => a - b)).toEqual([0, 0, 1]);
  });

  for (const withNotifier of [false, true]) {
    it(`hands over at once when the leader stops cleanly (${withNotifier ? 'through the notifier' : 'own LISTEN'})`, { timeout: 6_000 }, async () => {
      // A 30 s lease that followers retry every 10 s: only the release explains a takeover within 2 s.
      const peers = await Promise.all(['a', 'b', 'c'].map((n) => peer(n, { leaseTtl: 30_000, withNotifier })));
      await waitFor(() => leaders(peers).length === 1, 2_000, 'a leader');
      const [old] = leaders(peers);
      const rest = peers.filter((p) => p !== old);
      await old.stop();
      expect(old.isLeader()).toBe(false);
      expect(old.changes).toEqual([true, false]);
      await waitFor(() => leaders(rest).length === 1, 2_000, 'a new leader');
      expect(await old.leaderNode()).toBe(leaders(rest)[0].node);
    });
  }

  it('resigns at its next renewal when another node holds the row', async () => {
    const p = await peer('a', { leaseTtl: 1_500 });
    await waitFor(() => p.isLeader(), 2_000, 'leadership');
    await sql(`UPDATE ${leases} SET node = 'intruder', expires_at = now() + interval '1 minute'`);
    await waitFor(() => !p.isLeader(), 1_500, 'resignation');
    expect(p.changes).toEqual([true, false]);
    expect(await p.leaderNode()).toBe('intruder');
    await sleep(600); // one more renewal period: it does not come back
    expect(p.isLeader()).toBe(false);
  });

  it('resigns before its lease expires when renewals cannot get through', async () => {
    const p = await peer('a', { leaseTtl: 1_500 });
    await waitFor(() => p.isLeader(), 2_000, 'leadership');
    // Hold the row lock: the renewal blocks as if the database were unreachable.
    await withClient(url, async (locker) => {
      await locker.query('BEGIN');
      await locker.query(`SELECT * FROM ${leases} FOR UPDATE`);
      await waitFor(() => !p.isLeader(), 2_000, 'resignation');
      const { rows } = await sql(`SELECT expires_at > clock_timestamp() AS valid FROM ${leases}`);
      expect(rows[0].valid).toBe(true); // resigned while the row was still unexpired
      await locker.query('ROLLBACK');
    });
    await waitFor(() => p.isLeader(), 3_000, 'leadership again once the database answers');
  });

  it('never leads when not eligible, yet reports the leader', async () => {
    const watcher = await peer('w', { leaseTtl: 300, eligible: false });
    await sleep(400);
    expect(watcher.isLeader()).toBe(false);
    expect(await watcher.leaderNode()).toBeNull();
    const leader = await peer('l', { leaseTtl: 300 });
    await waitFor(() => leader.isLeader(), 1_000, 'leadership');
    expect(await watcher.leaderNode()).toBe('l');
    expect(watcher.changes).toEqual([]);
  });

  it('judges expiry by the database clock', async () => {
    const watcher = await peer('w', { leaseTtl: 1_000, eligible: false });
    expect(await watcher.leaderNode()).toBeNull();
    await sql(`INSERT INTO ${leases} (name, node, expires_at) VALUES ('leader', 'ghost', now() + interval '300 milliseconds')`);
    expect(await watcher.leaderNode()).toBe('ghost');
    await waitFor(async () => (await watcher.leaderNode()) === null, 2_000, 'the lease to expire');
  });

  it('waits for the store to be ready, and stop() leaves no timers behind', async () => {
    const timers = trackTimers();
    onTestFinished(() => timers.restore());
    let ready = false;
    const ctx = createTestContext(url, schema, 'r');
    const p = new PostgresPeer(ctx, { leaseTtl: 600, eligible: true, ready: () => ready });
    await p.start();
    await sleep(300);
    expect(p.isLeader()).toBe(false);
    ready = true;
    await waitFor(() => p.isLeader(), 1_000, 'leadership once ready');
    await p.stop();
    await ctx.close();
    expect(timers.pending()).toBe(0); // its retry, renewal, deadline and statement timers are gone
    const { rows } = await sql(`SELECT count(*)::int AS n FROM ${leases}`);
    expect(rows[0].n).toBe(0); // released
  });
});
