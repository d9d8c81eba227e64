import type { CircuitBreakerStore } from '../../breakers/circuit-breaker.types.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: circuit breakers kept by the store (the state machine of
 * lib/breakers/breaker.machine.ts, atomic under concurrent calls), the
 * release of the jobs they hold, and `unclaim` with a run time. A store
 * without `breakers` (the scheduler then keeps them in the process) passes
 * the breaker cases trivially.
 * @internal
 */
export function breakersConformance(suite: ConformanceSuite): void {
  const { at, ms, SEC, insert, claim, ref, describe, it, expect } = suite;
  const settings = { failureThreshold: 3, successThreshold: 2, resetTimeout: 30 * SEC };
  const breakers = (): CircuitBreakerStore | null => suite.store.breakers ?? null;
  const opened = async (b: CircuitBreakerStore, now = at(0)) => {
    await b.define('api', settings, now);
    for (let i = 0; i < 3; i++) await b.record('api', 'failure', false, now);
  };

  describe('circuit breakers', () => {
    it('defines a breaker closed; defining it again takes the new settings and keeps its state', async () => {
      const b = breakers();
      if (!b) return;
      expect(await b.define('api', settings, at(0))).toMatchObject({
        name: 'api',
        state: 'closed',
        failures: 0,
        openedAt: null,
        nextProbeAt: null,
        ...settings,
      });
      await b.record('api', 'failure', false, at(0));
      expect(await b.define('api', { ...settings, failureThreshold: 9 }, at(0))).toMatchObject({ failures: 1, failureThreshold: 9 });
      expect((await b.list()).map((r) => r.name)).toEqual(['api']);
      expect(await b.acquire('nope', at(0))).toBeNull();
      expect(await b.record('nope', 'failure', false, at(0))).toBeNull();
      expect(await b.reset('nope', at(0))).toBeNull();
    });

    it('opens after failureThreshold failures in a row; a success in between starts the count again', async () => {
      const b = breakers();
      if (!b) return;
      await b.define('api', settings, at(0));
      await b.record('api', 'failure', false, at(0));
      await b.record('api', 'failure', false, at(0));
      expect((await b.record('api', 'success', false, at(0)))!.record.failures).toBe(0);
      await b.record('api', 'failure', false, at(0));
      await b.record('api', 'abandon', false, at(0));
      await b.record('api', 'failure', false, at(0));
      const change = (await b.record('api', 'failure', false, at(SEC)))!;
      expect(change.from).toBe('closed');
      expect(change.record).toMatchObject({ state: 'open', failures: 3, openedAt: at(SEC).getTime(), nextProbeAt: at(31 * SEC).getTime() });
    });

    it('holds while open; then lets successThreshold probes through at once, even to concurrent callers', async () => {
      const b = breakers();
      if (!b) return;
      await opened(b);
      expect(await b.acquire('api', at(29 * SEC))).toMatchObject({ verdict: 'hold', from: 'open', record: { state: 'open' } });
      const answers = await Promise.all(Array.from({ length: 6 }, () => b.acquire('api', at(31 * SEC))));
      expect(answers.filter((a) => a!.verdict === 'probe')).toHaveLength(2);
      expect(answers.filter((a) => a!.verdict === 'hold')).toHaveLength(4);
      expect(answers.filter((a) => a!.from === 'open')).toHaveLength(1);
      expect((await b.list())[0]).toMatchObject({ state: 'halfOpen', probes: 2, successes: 0, nextProbeAt: at(61 * SEC).getTime() });
    });

    it('closes when the probes succeed, and opens again when one fails', async () => {
      const b = breakers();
      if (!b) return;
      await opened(b);
      await b.acquire('api', at(30 * SEC));
      await b.acquire('api', at(30 * SEC));
      expect((await b.record('api', 'success', true, at(31 * SEC)))!.record).toMatchObject({ state: 'halfOpen', successes: 1, probes: 1 });
      expect(await b.record('api', 'success', true, at(32 * SEC))).toMatchObject({
        from: 'halfOpen',
        record: { state: 'closed', failures: 0, successes: 0, probes: 0, openedAt: null, nextProbeAt: null },
      });
      await opened(b, at(40 * SEC));
      await b.acquire('api', at(70 * SEC));
      expect(await b.record('api', 'failure', true, at(71 * SEC))).toMatchObject({
        from: 'halfOpen',
        record: { state: 'open', failures: 4, probes: 0, openedAt: at(71 * SEC).getTime(), nextProbeAt: at(101 * SEC).getTime() },
      });
    });

    it('frees the slot of an abandoned probe, gives up probes unanswered past their deadline, ignores attempts that were no probes', async () => {
      const b = breakers();
      if (!b) return;
      await opened(b);
      await b.acquire('api', at(30 * SEC));
      await b.acquire('api', at(30 * SEC));
      await b.record('api', 'failure', false, at(30 * SEC));
      await b.record('api', 'abandon', true, at(31 * SEC));
      expect((await b.acquire('api', at(31 * SEC)))!.verdict).toBe('probe');
      expect((await b.acquire('api', at(31 * SEC)))!.verdict).toBe('hold');
      expect((await b.acquire('api', at(60 * SEC)))!.verdict).toBe('probe');
      expect((await b.list())[0]).toMatchObject({ state: 'halfOpen', probes: 1, failures: 3, nextProbeAt: at(90 * SEC).getTime() });
    });

    it('reset closes it from any state', async () => {
      const b = breakers();
      if (!b) return;
      await opened(b);
      expect(await b.reset('api', at(SEC))).toMatchObject({ from: 'open', record: { state: 'closed', failures: 0, openedAt: null, nextProbeAt: null } });
      expect((await b.acquire('api', at(SEC)))!.verdict).toBe('run');
    });

    it('raises the version with every change it saves, and answers and lists the version it saved', async () => {
      const b = breakers();
      if (!b) return;
      const versions = [(await b.define('api', settings, at(0))).version];
      versions.push((await b.record('api', 'failure', false, at(0)))!.record.version);
      versions.push((await b.define('api', { ...settings, failureThreshold: 9 }, at(0))).version);
      versions.push((await b.reset('api', at(0)))!.record.version);
      for (let i = 0; i < 9; i++) versions.push((await b.record('api', 'failure', false, at(SEC)))!.record.version);
      versions.push((await b.acquire('api', at(60 * SEC)))!.record.version);
      for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]!);
      const [listed] = await b.list();
      expect(listed).toMatchObject({ state: 'halfOpen', version: versions.at(-1) });
      // Concurrent changes each get a version of their own.
      await b.define('api', { ...settings, failureThreshold: 20 }, at(0));
      await b.reset('api', at(61 * SEC));
      const answers = await Promise.all(Array.from({ length: 4 }, () => b.record('api', 'failure', false, at(61 * SEC))));
      expect(answers.map((a) => a!.record.failures).sort((x, y) => x - y)).toEqual([1, 2, 3, 4]);
      expect(new Set(answers.map((a) => a!.record.version)).size).toBe(4);
      expect((await b.list())[0]!.version).toBe(Math.max(...answers.map((a) => a!.record.version)));
    });
  });

  describe('jobs held by a breaker', () => {
    it('unclaim with runAt gives the attempt back and makes the job due then', async () => {
      const job = await insert();
      const [claimed] = await claim();
      expect(await suite.store.unclaim([ref(claimed!)], { runAt: at(30 * SEC) })).toBe(1);
      const back = (await suite.store.get(job.id))!;
      expect([back.state, back.attempt, back.node, ms(back.runAt)]).toEqual(['available', 0, null, at(30 * SEC).getTime()]);
      expect(await claim({ now: at(29 * SEC) })).toEqual([]);
      expect((await claim({ now: at(30 * SEC) })).map((j) => [j.id, j.attempt])).toEqual([[job.id, 1]]);
    });

    it('release makes due now the jobs of those names held until that instant, and only them', async () => {
      const b = breakers();
      if (!b) return;
      const held = await insert({ name: 'charge', queue: 'billing' });
      const other = await insert({ name: 'charge', queue: 'billing', runAt: at(40 * SEC) });
      const otherName = await insert({ name: 'mail' });
      const [claimedHeld] = await claim({ queue: 'billing', limit: 1 });
      await suite.store.unclaim([ref(claimedHeld!)], { runAt: at(30 * SEC) });
      const [claimedMail] = await claim();
      await suite.store.unclaim([ref(claimedMail!)], { runAt: at(30 * SEC) });
      expect(await b.release(['charge'], at(30 * SEC), at(5 * SEC))).toEqual(['billing']);
      expect(ms((await suite.store.get(held.id))!.runAt)).toBe(at(5 * SEC).getTime());
      expect(ms((await suite.store.get(other.id))!.runAt)).toBe(at(40 * SEC).getTime());
      expect(ms((await suite.store.get(otherName.id))!.runAt)).toBe(at(30 * SEC).getTime());
      expect((await claim({ queue: 'billing', now: at(5 * SEC) })).map((j) => j.id)).toEqual([held.id]);
      expect(await b.release(['charge'], at(30 * SEC), at(5 * SEC))).toEqual([]);
    });

    it('release makes due now a held job whose name is paused, which stays unclaimed until resumed', async () => {
      const b = breakers();
      if (!b) return;
      const held = await insert({ name: 'charge' });
      const [claimed] = await claim({ limit: 1 });
      await suite.store.unclaim([ref(claimed!)], { runAt: at(30 * SEC) });
      await suite.store.setScheduleState('charge', { paused: true });
      expect(await b.release(['charge'], at(30 * SEC), at(5 * SEC))).toEqual(['default']);
      expect(ms((await suite.store.get(held.id))!.runAt)).toBe(at(5 * SEC).getTime());
      expect(await claim({ now: at(5 * SEC) })).toEqual([]);
      await suite.store.setScheduleState('charge', { paused: false });
      expect((await claim({ now: at(5 * SEC) })).map((j) => j.id)).toEqual([held.id]);
    });
  });
}
