import { describe, expect, it } from 'vitest';
import { ticksToPlan } from '../../../lib/planner/tick-planner.js';
import { compileSchedule } from '../../../lib/schedule/schedule-spec.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const t0 = Date.UTC(2026, 0, 1);
const hourly = compileSchedule({ cron: '0 * * * *' }, 'test')!;
const everySecond = compileSchedule({ every: '1s' }, 'test')!;
const at = (ms: number) => new Date(ms).toISOString().slice(11, 19);

describe('ticksToPlan', () => {
  it('plans the on-time ticks in (plannedUntil, now]', () => {
    expect(ticksToPlan(hourly, t0, t0 + HOUR, MIN, 'runOnce')).toEqual([{ at: t0 + HOUR, misfired: false }]);
    expect(ticksToPlan(hourly, t0 + HOUR, t0 + HOUR, MIN, 'runOnce')).toEqual([]);
  });

  it('ticks late by less than the threshold run, unflagged', () => {
    const ticks = ticksToPlan(everySecond, t0, t0 + 5_000, MIN, 'skip');
    expect(ticks.map((t) => t.misfired)).toEqual([false, false, false, false, false]);
  });

  it('runOnce: the latest missed tick once, flagged', () => {
    expect(ticksToPlan(hourly, t0, t0 + 5.5 * HOUR, MIN, 'runOnce')).toEqual([{ at: t0 + 5 * HOUR, misfired: true }]);
  });

  it('runOnce with an on-time tick flags that one instead of adding another', () => {
    expect(ticksToPlan(hourly, t0, t0 + 5 * HOUR + 1_000, MIN, 'runOnce')).toEqual([{ at: t0 + 5 * HOUR, misfired: true }]);
  });

  it('skip: only on-time ticks', () => {
    expect(ticksToPlan(hourly, t0, t0 + 5.5 * HOUR, MIN, 'skip')).toEqual([]);
  });

  it('catchUp: every missed tick within the window, then the on-time ones', () => {
    const ticks = ticksToPlan(hourly, t0, t0 + 6 * HOUR + 1_000, MIN, { catchUp: 3 * HOUR });
    expect(ticks.map((t) => `${at(t.at)}${t.misfired ? '*' : ''}`)).toEqual(['04:00:00*', '05:00:00*', '06:00:00']);
  });

  it('caps a round at 1,000 ticks', () => {
    expect(ticksToPlan(everySecond, t0, t0 + 2 * HOUR, 2 * HOUR, 'skip')).toHaveLength(1_000);
  });
});
