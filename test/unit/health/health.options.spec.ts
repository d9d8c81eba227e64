import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../lib/index.js';
import { checkHealthOptions } from '../../../lib/health/health.options.js';

const refusal = (options: unknown): { argument: string; message: string } => {
  try {
    checkHealthOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return { argument: (error as InvalidArgumentError).argument, message: (error as Error).message };
  }
  throw new Error(`accepted ${String(options)}`);
};

describe('checkHealthOptions', () => {
  it('takes presets, lists of checks and each check’s options; null reads as not given', () => {
    expect(checkHealthOptions(undefined)).toEqual({});
    expect(checkHealthOptions(null)).toEqual({});
    expect(checkHealthOptions({ checks: 'readiness' })).toEqual({ checks: 'readiness' });
    const full = {
      checks: ['loop', 'store', 'leader', 'lag', 'stuck', 'deadLetters', 'started', 'draining', 'discovery', 'migrations'],
      loop: { maxStallMs: 0 },
      store: { timeoutMs: 500, slowMs: 100, cacheMs: 1_000 },
      leader: { graceMs: 30_000 },
      lag: { warnMs: 1, failMs: 2, queues: ['emails'] },
      stuck: { maxCount: 3 },
      deadLetters: { windowMs: 60_000, max: 0 },
      started: undefined,
    };
    expect(checkHealthOptions(full)).toEqual(full);
    expect(checkHealthOptions({ checks: ['lag'], lag: null, stuck: undefined })).toEqual({ checks: ['lag'], stuck: undefined });
  });

  it('names a typo of a preset, a check or an option, with what it likely meant', () => {
    expect(refusal({ checks: 'readyness' })).toMatchObject({ argument: 'checks', message: expect.stringContaining("did you mean 'readiness'?") });
    expect(refusal({ checks: 'lag' }).message).toContain("one check goes in a list: ['lag']");
    expect(refusal({ checks: ['loop', 'deadletters'] }).message).toContain(`"deadletters" is not a check`);
    expect(refusal({ checks: ['loop', 'deadletters'] }).message).toContain("did you mean 'deadLetters'?");
    expect(refusal({ chekcs: ['loop'] })).toMatchObject({ argument: 'chekcs', message: expect.stringContaining("did you mean 'checks'?") });
    expect(refusal({ lag: { warnMS: 5 } })).toMatchObject({ argument: 'lag.warnMS', message: expect.stringContaining("did you mean 'warnMs'?") });
    expect(refusal({ started: { x: 1 } }).message).toContain('takes no options');
  });

  it('refuses thresholds that are not numbers of 0 or more (a NaN would never fail), counts that are not whole, and bad shapes', () => {
    expect(refusal({ lag: { warnMs: NaN } })).toMatchObject({
      argument: 'lag.warnMs',
      message: expect.stringContaining('a number of milliseconds of 0 or more, got null'),
    });
    expect(refusal({ store: { timeoutMs: '1s' } }).argument).toBe('store.timeoutMs');
    expect(refusal({ loop: { maxStallMs: -1 } }).argument).toBe('loop.maxStallMs');
    expect(refusal({ stuck: { maxCount: 1.5 } })).toMatchObject({ argument: 'stuck.maxCount', message: expect.stringContaining('an integer of 0 or more') });
    expect(refusal({ lag: { queues: 'emails' } }).argument).toBe('lag.queues');
    expect(refusal({ lag: { queues: [''] } }).argument).toBe('lag.queues');
    expect(refusal({ checks: [] }).message).toContain('at least one check');
    expect(refusal({ lag: 5 }).argument).toBe('lag');
    expect(refusal('readiness').argument).toBe('options');
    expect(refusal({ checks: 10n }).message).toContain('got 10n');
  });
});
