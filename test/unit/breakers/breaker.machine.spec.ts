import { describe, expect, it } from 'vitest';
import { admit, newBreaker, reset, settle } from '../../../lib/breakers/breaker.machine.js';
import { tripsCircuit } from '../../../lib/breakers/breaker.failures.js';
import { resolveBreakerSettings } from '../../../lib/breakers/breaker-settings.resolver.js';
import type { BreakerOutcome, BreakerRecord } from '../../../lib/breakers/circuit-breaker.types.js';
import { DiscardJobError } from '../../../lib/index.js';
import { FakeClock } from '../../../lib/testing/fake.clock.js';

const settings = { failureThreshold: 3, successThreshold: 2, resetTimeout: 30_000 };

/** A breaker driven through the machine, on a fake clock. */
function breaker() {
  const clock = new FakeClock();
  let record: BreakerRecord = newBreaker('api', settings);
  return {
    clock,
    get record() {
      return record;
    },
    admit() {
      const a = admit(record, clock.now());
      record = a.record;
      return a.verdict;
    },
    settle(outcome: BreakerOutcome, probe = false) {
      const change = settle(record, outcome, probe, clock.now());
      record = change.record;
      return change.from;
    },
    fail(times: number) {
      for (let i = 0; i < times; i++) this.settle('failure');
    },
  };
}

describe('circuit breaker state machine', () => {
  it('opens after failureThreshold failures in a row, and a success in between starts the count again', () => {
    const b = breaker();
    b.fail(2);
    b.settle('success');
    expect(b.record).toMatchObject({ state: 'closed', failures: 0 });
    b.fail(2);
    expect(b.record).toMatchObject({ state: 'closed', failures: 2 });
    expect(b.admit()).toBe('run');
    b.fail(1);
    expect(b.record).toMatchObject({ state: 'open', failures: 3, openedAt: b.clock.now(), nextProbeAt: b.clock.now() + 30_000 });
  });

  it('holds jobs while open, until resetTimeout has passed', async () => {
    const b = breaker();
    b.fail(3);
    await b.clock.advance(29_999);
    expect(b.admit()).toBe('hold');
    expect(b.record.state).toBe('open');
    await b.clock.advance(1);
    expect(b.admit()).toBe('probe');
    expect(b.record).toMatchObject({ state: 'halfOpen', probes: 1, successes: 0, nextProbeAt: b.clock.now() + 30_000 });
  });

  it('lets successThreshold probes through at once when half-open, and closes when they all succeed', async () => {
    const b = breaker();
    b.fail(3);
    await b.clock.advance('30s');
    expect([b.admit(), b.admit(), b.admit()]).toEqual(['probe', 'probe', 'hold']);
    expect(b.settle('success', true)).toBe('halfOpen');
    expect(b.record).toMatchObject({ state: 'halfOpen', successes: 1, probes: 1 });
    // A slot counts successes too: one success and one probe running fill both.
    expect(b.admit()).toBe('hold');
    b.settle('success', true);
    expect(b.record).toMatchObject({ state: 'closed', failures: 0, successes: 0, probes: 0, openedAt: null, nextProbeAt: null });
    expect(b.admit()).toBe('run');
  });

  it('opens again when a probe fails, for another resetTimeout', async () => {
    const b = breaker();
    b.fail(3);
    await b.clock.advance('30s');
    b.admit();
    await b.clock.advance('1s');
    expect(b.settle('failure', true)).toBe('halfOpen');
    expect(b.record).toMatchObject({ state: 'open', failures: 4, probes: 0, openedAt: b.clock.now(), nextProbeAt: b.clock.now() + 30_000 });
    expect(b.admit()).toBe('hold');
  });

  it('frees the slot of an abandoned probe, and gives up on probes unanswered past their deadline', async () => {
    const b = breaker();
    b.fail(3);
    await b.clock.advance('30s');
    b.admit();
    b.admit();
    b.settle('abandon', true);
    expect(b.record).toMatchObject({ state: 'halfOpen', probes: 1 });
    expect(b.admit()).toBe('probe');
    expect(b.admit()).toBe('hold');
    // Both probes' nodes died: after the deadline, two more go through.
    await b.clock.advance('30s');
    expect([b.admit(), b.admit(), b.admit()]).toEqual(['probe', 'probe', 'hold']);
  });

  it('ignores outcomes of attempts that are not probes while open or half-open', async () => {
    const b = breaker();
    b.fail(3);
    const opened = b.record;
    b.settle('success');
    b.settle('failure');
    expect(b.record).toBe(opened);
    await b.clock.advance('30s');
    b.admit();
    const half = b.record;
    b.settle('failure');
    b.settle('success');
    expect(b.record).toBe(half);
  });

  it('reset closes it from any state', async () => {
    const b = breaker();
    b.fail(3);
    expect(reset(b.record)).toMatchObject({ from: 'open', record: { state: 'closed', failures: 0, nextProbeAt: null } });
  });
});

describe('what trips a circuit', () => {
  it('counts failures but those the error or its class puts on the job', () => {
    expect(tripsCircuit(new Error('ECONNRESET'))).toBe(true);
    expect(tripsCircuit('a string')).toBe(true);
    expect(tripsCircuit(Object.assign(new Error('x'), { tripsCircuit: false }))).toBe(false);
    expect(tripsCircuit(Object.assign(new Error('x'), { errorClass: 'terminal' }))).toBe(false);
    expect(tripsCircuit(Object.assign(new Error('x'), { errorClass: 'terminal', tripsCircuit: true }))).toBe(true);
    expect(tripsCircuit(new DiscardJobError('bad input'))).toBe(false);
    expect(tripsCircuit(new Error('404'), 'terminal')).toBe(false);
    expect(tripsCircuit(new Error('503'), 'degraded')).toBe(true);
  });
});

describe('breaker settings', () => {
  const fail = (option: string, detail: string): never => {
    throw new Error(`${option}: ${detail}`);
  };

  it("defaults to seed 003's 5 failures, 2 probes, 30 s", () => {
    expect(resolveBreakerSettings(undefined, fail, 'b')).toEqual({ failureThreshold: 5, successThreshold: 2, resetTimeout: 30_000 });
    expect(resolveBreakerSettings({ resetTimeout: '1m', failureThreshold: 1 }, fail, 'b')).toEqual({
      failureThreshold: 1,
      successThreshold: 2,
      resetTimeout: 60_000,
    });
  });

  it('refuses bad settings, naming the option', () => {
    expect(() => resolveBreakerSettings({ failureThreshold: 0 }, fail, 'b')).toThrow('b.failureThreshold: must be an integer');
    expect(() => resolveBreakerSettings({ resetTimeout: 'soon' }, fail, 'b')).toThrow('b.resetTimeout');
    expect(() => resolveBreakerSettings({ threshold: 3 } as never, fail, 'b')).toThrow('b.threshold: is not a circuit breaker option');
  });
});
