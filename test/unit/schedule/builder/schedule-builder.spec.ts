import { describe, expect, it } from 'vitest';
import { at, cron, CronNotExpressibleError, every, on, ScheduleBuilderError } from '../../../../lib/index.js';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const T0 = Date.parse('2026-12-07T08:58:00Z'); // a Monday

describe('schedule builder: specs', () => {
  it('every(n).minutes() is cron when n divides 60, a fixed interval otherwise', () => {
    expect(every(5).minutes().toSpec()).toEqual({ kind: 'cron', cron: '*/5 * * * *', tz: 'Etc/UTC' });
    expect(every().minute().toSpec()).toEqual({ kind: 'cron', cron: '* * * * *', tz: 'Etc/UTC' });
    expect(every(7).minutes().toSpec()).toEqual({ kind: 'interval', everyMs: 420_000, anchor: null, tz: 'Etc/UTC' });
    expect(every(6).hours().toSpec()).toMatchObject({ kind: 'cron', cron: '0 */6 * * *' });
    expect(every(5).hours().toSpec()).toMatchObject({ kind: 'interval', everyMs: 5 * 3_600_000 });
    expect(every(15).seconds().toSpec()).toMatchObject({ kind: 'cron', cron: '*/15 * * * * *' });
  });

  it('carries window, days, start, end, maxRuns, jitter and policies as plain JSON', () => {
    const spec = every(5)
      .minutes()
      .between('9am', '17:00')
      .weekdays()
      .timezone('Europe/Paris')
      .startAt('2026-12-01T00:00:00Z')
      .endAt(new Date('2027-01-01T00:00:00Z'))
      .maxRuns(10)
      .jitter('30s')
      .runOnStart()
      .withoutOverlapping()
      .misfire('skip')
      .toSpec();
    expect(spec).toEqual({
      kind: 'cron',
      cron: '*/5 * * * *',
      tz: 'Europe/Paris',
      window: { between: ['09:00', '17:00'] },
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      start: '2026-12-01T00:00:00.000Z',
      end: '2027-01-01T00:00:00.000Z',
      maxRuns: 10,
      jitter: 30_000,
      runOnStart: true,
      overlap: 'skip',
      misfire: 'skip',
    });
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  it('reads times of day as in seeds 001 and 002', () => {
    expect(every().day().at('14:30').toSpec()).toMatchObject({ cron: '30 14 * * *' });
    expect(every().day().at('10:30pm').toSpec()).toMatchObject({ cron: '30 22 * * *' });
    expect(every().day().at('12am').toSpec()).toMatchObject({ cron: '0 0 * * *' });
    expect(every().day().at('07:05:09').toSpec()).toMatchObject({ cron: '9 5 7 * * *' });
    expect(on('mon', 'thu').at('08:00').toSpec()).toMatchObject({ cron: '0 8 * * 1,4' });
    expect(every(2).days().at('06:00').startingOn('2026-12-01T00:00:00Z').toSpec()).toMatchObject({
      cron: '0 6 * * *',
      everyDays: 2,
      anchor: '2026-12-01T00:00:00.000Z',
    });
    for (const bad of ['25:00', '13pm', '9', '7:60', 'noon']) expect(() => every().day().at(bad)).toThrow(ScheduleBuilderError);
  });

  it('refuses chains the types forbid when called from JavaScript', () => {
    const loose = every(5).minutes() as unknown as { at(t: string): unknown };
    expect(() => loose.at('14:30')).toThrow(ScheduleBuilderError);
    expect(() => every(5).minutes().onEveryNode()).toThrow(/not supported/);
    expect(() => every(0)).toThrow(ScheduleBuilderError);
    expect(() => every(5).minutes().between('17:00', '09:00')).toThrow(/midnight/);
    expect(() => every(5).minutes().timezone('Mars/Olympus')).toThrow(ScheduleBuilderError);
    expect(() => every(5).minutes().jitter('2h')).toThrow(ScheduleBuilderError);
    expect(() => cron('61 * * * *')).toThrow(ScheduleBuilderError);
    expect(() => at('tomorrow')).toThrow(ScheduleBuilderError);
  });
});

describe('schedule builder: describe()', () => {
  it('says whether it is clock-aligned cron or a fixed interval', () => {
    expect(every(5).minutes().between('09:00', '17:00').weekdays().timezone('Europe/Paris').describe()).toBe(
      'Every 5 minutes between 09:00 and 17:00 on weekdays (Europe/Paris); clock-aligned: cron "*/5 * * * *"',
    );
    expect(every(7).minutes().describe()).toBe('Every 7 minutes (Etc/UTC); a fixed interval anchored at registration (the insert), not aligned to the clock');
    expect(every().day().at('14:30').withoutOverlapping().describe()).toBe(
      'Every day at 14:30 (Etc/UTC); clock-aligned: cron "30 14 * * *"; skipped while the previous run is queued or running',
    );
    expect(on('mon', 'thu').at('08:00').describe()).toBe('Every Monday and Thursday at 08:00 (Etc/UTC); clock-aligned: cron "0 8 * * 1,4"');
    expect(on('mon', 'wed', 'fri').at('08:00').describe()).toBe('Every Monday, Wednesday and Friday at 08:00 (Etc/UTC); clock-aligned: cron "0 8 * * 1,3,5"');
    expect(every(90).minutes().startAt('2026-12-01T00:00:00Z').maxRuns(3).describe()).toBe(
      'Every 90 minutes (Etc/UTC); a fixed interval anchored at 2026-12-01T00:00:00.000Z, not aligned to the clock; from 2026-12-01T00:00:00.000Z; at most 3 runs',
    );
    expect(at('2026-12-25T08:00:00+01:00').describe()).toBe('Once at 2026-12-25T07:00:00.000Z');
  });
});

describe('schedule builder: nextRuns()', () => {
  it('keeps a window (start included, end excluded) on weekdays, in the zone', () => {
    const runs = every(4).hours().between('08:00', '16:00').weekdays().timezone('Europe/Paris');
    // Friday 2026-12-11 then Monday: Paris is UTC+1 in December.
    expect(iso(runs.nextRuns(4, Date.parse('2026-12-11T06:00:00Z')))).toEqual([
      '2026-12-11T07:00:00.000Z',
      '2026-12-11T11:00:00.000Z',
      '2026-12-14T07:00:00.000Z',
      '2026-12-14T11:00:00.000Z',
    ]);
    expect(iso(every(5).minutes().between('09:00', '09:10').nextRuns(3, T0))).toEqual([
      '2026-12-07T09:00:00.000Z',
      '2026-12-07T09:05:00.000Z',
      '2026-12-08T09:00:00.000Z',
    ]);
  });

  it('anchors a fixed interval at its start, or at `from` when it has none', () => {
    expect(iso(every(7).minutes().nextRuns(2, T0))).toEqual(['2026-12-07T09:05:00.000Z', '2026-12-07T09:12:00.000Z']);
    const anchored = every(7).minutes().startAt('2026-12-07T09:00:00Z');
    expect(iso(anchored.nextRuns(2, T0))).toEqual(['2026-12-07T09:00:00.000Z', '2026-12-07T09:07:00.000Z']);
    expect(iso(anchored.maxRuns(2).nextRuns(5, T0))).toHaveLength(2);
  });

  it('crosses the spring-forward and fall-back days in Europe/Paris', () => {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 does not exist and fires at 03:30 CEST.
    const daily = every().day().at('02:30').timezone('Europe/Paris');
    expect(iso(daily.nextRuns(3, Date.parse('2026-03-27T12:00:00Z')))).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    // 2026-10-25: 03:00 CEST becomes 02:00 CET; a daily 02:30 fires once, at its first occurrence.
    expect(iso(daily.nextRuns(3, Date.parse('2026-10-23T12:00:00Z')))).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
    // A fixed interval ignores the wall clock: 90 minutes apart through the shift.
    const runs = every(90).minutes().startAt('2026-03-29T00:00:00Z').nextRuns(3, Date.parse('2026-03-28T23:00:00Z'));
    expect(runs.map((d) => d.getTime() - runs[0]!.getTime())).toEqual([0, 5_400_000, 10_800_000]);
    // A window in Paris time moves with the offset: 08:00 is 07:00Z before, 06:00Z after.
    const window = every().hour().between('08:00', '09:00').timezone('Europe/Paris');
    expect(iso(window.nextRuns(2, Date.parse('2026-03-28T00:00:00Z')))).toEqual(['2026-03-28T07:00:00.000Z', '2026-03-29T06:00:00.000Z']);
  });

  it('every(2).days() counts local days from its start', () => {
    const runs = every(2).days().at('06:00').startingOn('2026-12-01T00:00:00Z').nextRuns(3, Date.parse('2026-12-02T00:00:00Z'));
    expect(iso(runs)).toEqual(['2026-12-03T06:00:00.000Z', '2026-12-05T06:00:00.000Z', '2026-12-07T06:00:00.000Z']);
  });

  it('jitter delays each run by less than its bound, the same way every time', () => {
    const plain = every().hour().nextRuns(20, T0);
    const jittered = every().hour().jitter('10m').nextRuns(20, T0);
    const offsets = jittered.map((d, i) => d.getTime() - plain[i]!.getTime());
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThan(600_000);
    expect(new Set(offsets).size).toBeGreaterThan(10);
    expect(every().hour().jitter('10m').nextRuns(20, T0)).toEqual(jittered);
  });
});

describe('schedule builder: toCron()', () => {
  it('folds hour windows and days into the expression', () => {
    expect(every(5).minutes().between('09:00', '17:00').weekdays().toCron()).toBe('*/5 9-16 * * 1,2,3,4,5');
    expect(every().day().at('14:30').toCron()).toBe('30 14 * * *');
    expect(cron('0 6 * * *').onDays('sat', 'sun').toCron()).toBe('0 6 * * 0,6');
  });

  it('throws CronNotExpressibleError when no expression says the same', () => {
    for (const b of [
      every(7).minutes(),
      every(5).minutes().between('09:30', '17:00'),
      every().hour().jitter('1m'),
      at('2026-12-25T00:00:00Z'),
      every(2).days(),
    ]) {
      expect(() => b.toCron()).toThrow(CronNotExpressibleError);
    }
  });
});

describe('schedule builder: arguments from plain JavaScript', () => {
  it('refuses a cron that is not a string, and a nextRuns count or start that is not one, with ScheduleBuilderError', () => {
    for (const bad of [undefined, null, 42, {}]) expect(() => cron(bad as never)).toThrow(ScheduleBuilderError);
    const rule = every(5).minutes();
    for (const count of [-1, 1.5, NaN, 1_001, Symbol('n')]) expect(() => rule.nextRuns(count as never)).toThrow(ScheduleBuilderError);
    for (const from of [null, 'tomorrow', new Date(NaN), Infinity, {}]) expect(() => rule.nextRuns(3, from as never)).toThrow(/to start from/);
    expect(iso(rule.nextRuns(2, T0))).toEqual(['2026-12-07T09:00:00.000Z', '2026-12-07T09:05:00.000Z']);
    expect(rule.nextRuns(0, T0)).toEqual([]);
  });
});
