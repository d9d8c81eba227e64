import { describe, expect, it } from 'vitest';
import { every, ScheduleBuilderError } from '../../../../lib/index.js';
import { ticksToPlan } from '../../../../lib/planner/tick-planner.js';
import { compileScheduleJson } from '../../../../lib/schedule/builder/schedule-json.compiler.js';

const FROM = Date.parse('2026-03-26T00:00:00Z');
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

describe('compileScheduleJson', () => {
  const cases = {
    'window + weekdays in Paris across the spring forward': every(20).minutes().between('08:30', '10:00').weekdays().timezone('Europe/Paris'),
    'fixed interval with a window': every(50).minutes().startAt('2026-03-25T00:00:00Z').between('22:00', '23:59').timezone('Europe/Paris'),
    'day step': every(3).days().at('02:30').startingOn('2026-03-20T00:00:00Z').timezone('Europe/Paris'),
    jitter: every().hour().jitter('20m'),
    'maxRuns from the start': every(6).hours().startAt('2026-03-26T00:00:00Z').maxRuns(5),
  };

  for (const [name, builder] of Object.entries(cases)) {
    it(`prev() is the inverse of next() (${name}), as misfire handling needs`, () => {
      const spec = compileScheduleJson(builder.toSpec(), FROM);
      const ticks: number[] = [];
      for (let t = spec.next(FROM); t !== null && ticks.length < 30; t = spec.next(t)) ticks.push(t);
      expect(ticks.length).toBeGreaterThan(3);
      for (let i = 1; i < ticks.length; i++) {
        expect(ticks[i]).toBeGreaterThan(ticks[i - 1]!);
        expect(iso(spec.prev(ticks[i]!))).toBe(iso(ticks[i]!));
        expect(iso(spec.prev(ticks[i]! - 1))).toBe(iso(ticks[i - 1]!));
      }
      expect(ticks).toEqual(builder.nextRuns(30, FROM).map((d) => d.getTime()));
    });
  }

  it('maxRuns ends the schedule after its last run', () => {
    const spec = compileScheduleJson(cases['maxRuns from the start'].toSpec(), FROM);
    expect(iso(spec.next(Date.parse('2026-03-27T00:00:00Z')))).toBeNull();
    expect(iso(spec.prev(Date.parse('2026-04-01T00:00:00Z')))).toBe('2026-03-27T00:00:00.000Z');
  });

  it('the planner plans a window schedule with its misfire policy: one run for the missed ticks', () => {
    const spec = compileScheduleJson(every(10).minutes().between('09:00', '10:00').toSpec());
    // Down from 08:00 to 12:00: the missed ticks are 09:00 … 09:50; runOnce plans the latest.
    const ticks = ticksToPlan(spec, Date.parse('2026-03-26T08:00:00Z'), Date.parse('2026-03-26T12:00:00Z'), 60_000, 'runOnce');
    expect(ticks.map((t) => [iso(t.at), t.misfired])).toEqual([['2026-03-26T09:50:00.000Z', true]]);
    const caught = ticksToPlan(spec, Date.parse('2026-03-26T08:00:00Z'), Date.parse('2026-03-26T12:00:00Z'), 60_000, { catchUp: 86_400_000 });
    expect(caught).toHaveLength(6);
  });

  it('refuses a spec that counts from a start it does not have (decorators)', () => {
    expect(() => compileScheduleJson(every(7).minutes().toSpec())).toThrow(ScheduleBuilderError);
    expect(() => compileScheduleJson(every(5).minutes().maxRuns(3).toSpec())).toThrow(/maxRuns/);
    expect(() => compileScheduleJson({ kind: 'interval', everyMs: 0, anchor: '2026-01-01T00:00:00Z', tz: 'UTC' })).toThrow(ScheduleBuilderError);
    expect(() => compileScheduleJson({ kind: 'cron', cron: '* * * * *', tz: 'UTC', days: ['monday' as never] })).toThrow(/weekday/);
  });
});
