import { describe, expect, it } from 'vitest';
import { resolveBackoff } from '../../../lib/discovery/backoff.resolver.js';
import { assertScheduleOptions, overrideJobOptions, resolveJobOptions, type OptionFailure } from '../../../lib/discovery/job-options.resolver.js';
import { resolveJobDefaults } from '../../../lib/discovery/job-defaults.resolver.js';
import type { BackoffOption, JobOptions } from '../../../lib/index.js';

class OptionError extends Error {
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`${option}: ${detail}`);
  }
}
const fail: OptionFailure = (option, detail) => {
  throw new OptionError(option, detail);
};

/** The option `run` refused, or a failure when it accepted. */
function refused(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof OptionError) return error.option;
    throw error;
  }
  throw new Error('accepted');
}

describe('assertScheduleOptions', () => {
  it('refuses overlap and misfire on a handler without a schedule', () => {
    expect(refused(() => assertScheduleOptions({ overlap: 'skip' }, 'none', fail))).toBe('overlap');
    expect(refused(() => assertScheduleOptions({ misfire: 'skip' }, 'none', fail))).toBe('misfire');
    expect(() => assertScheduleOptions({ overlap: 'bufferOne' }, 'none', fail)).toThrow(/only to a schedule \(cron, every or at\)/);
  });

  it('refuses them on @reboot, which has no ticks to overlap or miss', () => {
    expect(refused(() => assertScheduleOptions({ overlap: 'allow' }, 'reboot', fail))).toBe('overlap');
    expect(refused(() => assertScheduleOptions({ misfire: { catchUp: '1h' } }, 'reboot', fail))).toBe('misfire');
  });

  it('accepts them with a schedule, and a handler that sets neither', () => {
    expect(() => assertScheduleOptions({ overlap: 'bufferOne', misfire: 'skip' }, 'ticks', fail)).not.toThrow();
    expect(() => assertScheduleOptions({}, 'none', fail)).not.toThrow();
  });
});

describe('resolveJobOptions', () => {
  it('keeps unique: true (enqueued jobs dedupe on it, ticks skip) and refuses a unique of the wrong type', () => {
    expect(resolveJobOptions({ unique: true }, fail, null)).toMatchObject({ unique: { legacy: true, by: ['name', 'args'] }, overlap: 'skip' });
    expect(resolveJobOptions({}, fail, null)).toMatchObject({ unique: null, overlap: 'allow' });
    expect(refused(() => resolveJobOptions({ unique: 42 } as unknown as JobOptions, fail, null))).toBe('unique');
  });

  it('takes a unique key or object without making ticks skip, and refuses it with overlap: skip', () => {
    expect(resolveJobOptions({ unique: 'k' }, fail, null)).toMatchObject({ unique: { legacy: false, key: 'k', by: [] }, overlap: 'allow' });
    expect(resolveJobOptions({ unique: { by: 'name', period: '1h' } }, fail, null)).toMatchObject({ unique: { by: ['name'], period: 3_600_000 } });
    expect(refused(() => resolveJobOptions({ unique: { by: 'name' }, overlap: 'skip' }, fail, null))).toBe('overlap');
  });

  it('resolves a declarative backoff', () => {
    const { backoff } = resolveJobOptions({ backoff: { type: 'exponential', delay: '1m', factor: 3, max: '10m' } }, fail, null);
    expect([1, 2, 3, 4].map((attempt) => backoff(attempt, null))).toEqual([60_000, 180_000, 540_000, 600_000]);
  });
});

describe('resolveBackoff', () => {
  const delays = (option: BackoffOption, attempts = [1, 2, 3]) => {
    const backoff = resolveBackoff(option, fail);
    return attempts.map((attempt) => backoff(attempt, new Error('x')));
  };

  it('a duration is a fixed delay; a function is used as given', () => {
    expect(delays('30s')).toEqual([30_000, 30_000, 30_000]);
    expect(delays({ minutes: 2 })).toEqual([120_000, 120_000, 120_000]);
    expect(delays((attempt) => attempt * 7)).toEqual([7, 14, 21]);
  });

  it("'fixed' waits delay every time, spread by jitter", () => {
    expect(delays({ type: 'fixed', delay: '5s' })).toEqual([5_000, 5_000, 5_000]);
    for (const delay of delays(
      { type: 'fixed', delay: '10s', jitter: 0.5 },
      Array.from({ length: 50 }, () => 1),
    )) {
      expect(delay).toBeGreaterThanOrEqual(5_000);
      expect(delay).toBeLessThanOrEqual(15_000);
    }
  });

  it("'exponential' grows by factor (default 2) from delay, capped at max (default 1 h), without jitter unless asked", () => {
    expect(delays({ type: 'exponential', delay: '1s' }, [1, 2, 3, 13, 40])).toEqual([1_000, 2_000, 4_000, 3_600_000, 3_600_000]);
    expect(delays({ type: 'exponential', delay: 100, factor: 1.5, max: 300 }, [1, 2, 3, 4])).toEqual([100, 150, 225, 300]);
    for (const delay of delays(
      { type: 'exponential', delay: '10s', jitter: true },
      Array.from({ length: 50 }, () => 2),
    )) {
      expect(delay).toBeGreaterThanOrEqual(16_000);
      expect(delay).toBeLessThanOrEqual(24_000);
    }
  });

  it('falls back to the given backoff, else the default exponential one', () => {
    expect(resolveBackoff(undefined, fail, () => 42)(1, null)).toBe(42);
    expect(resolveBackoff(undefined, fail)(1, null)).toBeGreaterThanOrEqual(800);
  });

  it('refuses a policy it cannot honour, naming the field', () => {
    const bad: [unknown, string][] = [
      [{ type: 'linear', delay: '1s' }, 'backoff.type'],
      [{ type: 'fixed' }, 'backoff.delay'],
      [{ type: 'fixed', delay: 'soon' }, 'backoff.delay'],
      [{ type: 'fixed', delay: '1s', max: '1m' }, 'backoff.max'],
      [{ type: 'fixed', delay: '1s', factor: 2 }, 'backoff.factor'],
      [{ type: 'exponential', delay: '1m', max: '30s' }, 'backoff.max'],
      [{ type: 'exponential', delay: '1s', factor: 0.5 }, 'backoff.factor'],
      [{ type: 'exponential', delay: '1s', jitter: 2 }, 'backoff.jitter'],
      [{ type: 'exponential', delay: '1s', dealy: '2s' }, 'backoff.dealy'],
      ['5 parsecs', 'backoff'],
    ];
    for (const [option, field] of bad)
      expect(
        refused(() => resolveBackoff(option as BackoffOption, fail)),
        JSON.stringify(option),
      ).toBe(field);
  });
});

describe('resolveJobOptions: defaults and what the job sets itself', () => {
  const defaults = resolveJobDefaults({ timeout: '2m', maxRetries: 6, backoff: '9s' });

  it("fills what the job leaves out from the module's defaults, and marks nothing as the job's own", () => {
    const resolved = resolveJobOptions({}, fail, null, { defaults });
    expect({ timeout: resolved.timeout, maxAttempts: resolved.maxAttempts, delay: resolved.backoff(1, null), explicit: resolved.explicit }).toEqual({
      timeout: 120_000,
      maxAttempts: 7,
      delay: 9_000,
      explicit: { maxRetries: false, backoff: false },
    });
    expect(resolveJobOptions({}, fail, null).timeout).toBe(300_000);
  });

  it("a job's own options win; timeout false means none", () => {
    const resolved = resolveJobOptions({ timeout: false, maxRetries: 1, backoff: '1s' }, fail, null, { defaults });
    expect({ timeout: resolved.timeout, maxAttempts: resolved.maxAttempts, delay: resolved.backoff(1, null), explicit: resolved.explicit }).toEqual({
      timeout: null,
      maxAttempts: 2,
      delay: 1_000,
      explicit: { maxRetries: true, backoff: true },
    });
    expect(resolveJobOptions({}, fail, null, { defaults, workerBackoff: () => 5 }).explicit).toEqual({ maxRetries: false, backoff: true });
  });

  it("an override (enqueue, runtime schedule) keeps the handler's settings, and whether they were its own", () => {
    const base = resolveJobOptions({ backoff: '4s' }, fail, null, { defaults });
    const enqueued = resolveJobOptions(overrideJobOptions(base, {}), fail, null, { base });
    expect({ maxAttempts: enqueued.maxAttempts, timeout: enqueued.timeout, delay: enqueued.backoff(1, null), explicit: enqueued.explicit }).toEqual({
      maxAttempts: 7,
      timeout: 120_000,
      delay: 4_000,
      explicit: { maxRetries: false, backoff: true },
    });
    const overridden = resolveJobOptions(overrideJobOptions(base, { maxRetries: 0, timeout: false }), fail, null, { base });
    expect({ maxAttempts: overridden.maxAttempts, timeout: overridden.timeout, explicit: overridden.explicit }).toEqual({
      maxAttempts: 1,
      timeout: null,
      explicit: { maxRetries: true, backoff: true },
    });
  });
});
