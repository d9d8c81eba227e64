import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { SchedulerConfigError } from '../../../lib/scheduler.errors.js';
import { compileSchedule, isReboot, type ScheduleInput, type ScheduleSpec } from '../../../lib/schedule/schedule-spec.js';

const SRC = 'ReportJobs.daily';
const NY = 'America/New_York';
const ms = (iso: string) => Date.parse(iso);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** Compiles and asserts a spec came back. */
function spec(input: ScheduleInput): ScheduleSpec {
  const s = compileSchedule(input, SRC);
  if (!s) throw new Error('expected a schedule');
  return s;
}

/** The next `n` ticks strictly after `from`, as ISO strings. */
function ticks(s: ScheduleSpec, from: string, n = 3): (string | null)[] {
  const out: (string | null)[] = [];
  let t: number | null = ms(from);
  for (let i = 0; i < n && t !== null; i++) out.push(iso((t = s.next(t))));
  return out;
}

describe('compileSchedule: cron', () => {
  it('reads 5 fields at minute resolution and 6 fields with seconds first', () => {
    expect(ticks(spec({ cron: '0 6 * * *' }), '2026-01-15T12:00:00Z', 2)).toEqual(['2026-01-16T06:00:00.000Z', '2026-01-17T06:00:00.000Z']);
    expect(ticks(spec({ cron: '15,45 * * * * *' }), '2026-01-15T12:00:00Z')).toEqual([
      '2026-01-15T12:00:15.000Z',
      '2026-01-15T12:00:45.000Z',
      '2026-01-15T12:01:15.000Z',
    ]);
  });

  it('accepts month and weekday names, L, 5L and 1#2', () => {
    expect(ticks(spec({ cron: '0 9 * JAN,jul MON-FRI' }), '2026-01-30T12:00:00Z')).toEqual([
      '2026-07-01T09:00:00.000Z',
      '2026-07-02T09:00:00.000Z',
      '2026-07-03T09:00:00.000Z',
    ]);
    expect(ticks(spec({ cron: '0 0 L * *' }), '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-31T00:00:00.000Z', '2026-02-28T00:00:00.000Z']);
    expect(ticks(spec({ cron: '0 0 * * 5L' }), '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-30T00:00:00.000Z']);
    expect(ticks(spec({ cron: '0 0 * * 1#2' }), '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-12T00:00:00.000Z']);
  });

  it.each([
    ['@yearly', '2027-01-01T00:00:00.000Z'],
    ['@annually', '2027-01-01T00:00:00.000Z'],
    ['@monthly', '2026-04-01T00:00:00.000Z'],
    ['@weekly', '2026-03-22T00:00:00.000Z'],
    ['@daily', '2026-03-19T00:00:00.000Z'],
    ['@midnight', '2026-03-19T00:00:00.000Z'],
    ['@hourly', '2026-03-18T11:00:00.000Z'],
    ['@Daily', '2026-03-19T00:00:00.000Z'],
  ])('expands the macro %s', (macro, expected) => {
    const s = spec({ cron: macro });
    expect(s.next(ms('2026-03-18T10:30:00Z'))).toBe(ms(expected));
    expect(s.description).toBe(`cron "${macro}" (Etc/UTC)`);
  });

  it('compiles @reboot to a spec with no clock ticks', () => {
    const s = spec({ cron: '@reboot' });
    expect(s).toMatchObject({ kind: 'reboot', description: '@reboot' });
    expect([s.next(0), s.prev(Date.now())]).toEqual([null, null]);
    expect(isReboot({ cron: '@reboot' })).toBe(true);
    expect(isReboot({ cron: [' @REBOOT '] })).toBe(true);
    expect(isReboot({ cron: ['@reboot', '@daily'] })).toBe(false);
    expect(isReboot({ cron: '@daily' })).toBe(false);
    expect(isReboot({ every: '5m' })).toBe(false);
    expect(isReboot({ cron: '@reboot', every: '5m' })).toBe(false); // left to compileSchedule, which rejects it
    expect(() => compileSchedule({ cron: '@reboot', every: '5m' }, SRC)).toThrow(/mutually exclusive/);
  });

  it('takes the earliest next and latest prev of a list, counting shared instants once', () => {
    const s = spec({ cron: ['0 18 * * *', '0 6 * * *', '0 */6 * * *'] });
    expect(s.description).toBe('cron "0 18 * * *", "0 6 * * *", "0 */6 * * *" (Etc/UTC)');
    expect(ticks(s, '2026-01-01T05:00:00Z', 5)).toEqual([
      '2026-01-01T06:00:00.000Z',
      '2026-01-01T12:00:00.000Z',
      '2026-01-01T18:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
      '2026-01-02T06:00:00.000Z',
    ]);
    expect(iso(s.prev(ms('2026-01-01T17:59:59Z')))).toBe('2026-01-01T12:00:00.000Z');
  });

  it('prev() includes its argument and next() excludes it', () => {
    const s = spec({ cron: '*/5 * * * *' });
    const tick = ms('2026-01-01T10:05:00Z');
    expect(s.prev(tick)).toBe(tick);
    expect(iso(s.prev(tick - 1))).toBe('2026-01-01T10:00:00.000Z');
    expect(iso(s.next(tick))).toBe('2026-01-01T10:10:00.000Z');
    expect(s.next(tick - 1)).toBe(tick);
  });

  it('reads the expression in the zone: 06:00 New York is 11:00Z in winter, 10:00Z in summer', () => {
    const s = spec({ cron: '0 6 * * *', zone: NY });
    expect(s.description).toBe('cron "0 6 * * *" (America/New_York)');
    expect(iso(s.next(ms('2026-01-15T00:00:00Z')))).toBe('2026-01-15T11:00:00.000Z');
    expect(iso(s.next(ms('2026-07-15T00:00:00Z')))).toBe('2026-07-15T10:00:00.000Z');
    expect(iso(s.prev(ms('2026-07-15T23:00:00Z')))).toBe('2026-07-15T10:00:00.000Z');
  });

  it.each(['Etc/UTC', NY, 'Asia/Kolkata', 'Australia/Lord_Howe'])('next/prev agree on random instants (%s)', (zone) => {
    let seed = 42;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (const cron of ['*/7 * * * *', '0 6 * * 1-5', '30 */3 * * *', '10 20 3 * * *', '0 0 L * *']) {
      const s = spec({ cron, zone });
      for (let i = 0; i < 40; i++) {
        const t = ms('2026-01-01T00:00:00Z') + Math.floor(rand() * 365 * 86_400_000);
        const next = s.next(t)!;
        const prev = s.prev(t)!;
        expect(next).toBeGreaterThan(t);
        expect(prev).toBeLessThanOrEqual(t);
        expect(s.prev(next)).toBe(next);
        expect(s.next(prev)).toBe(next);
        expect(s.prev(next - 1)).toBe(prev);
      }
    }
  });
});

describe('compileSchedule: daylight-saving time', () => {
  it('spring forward 2026-03-08: a time in the gap fires once, shifted by the gap (02:30 -> 03:30 EDT)', () => {
    expect(ticks(spec({ cron: '30 2 * * *', zone: NY }), '2026-03-07T12:00:00Z')).toEqual([
      '2026-03-08T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
      '2026-03-10T06:30:00.000Z',
    ]);
    const s = spec({ cron: '30 2 * * *', zone: NY });
    expect(iso(s.prev(ms('2026-03-09T00:00:00Z')))).toBe('2026-03-08T07:30:00.000Z');
    expect(iso(s.next(ms('2026-03-08T07:10:00Z')))).toBe('2026-03-08T07:30:00.000Z');
    // 02:00 is shifted onto 03:00 and fires once
    expect(ticks(spec({ cron: '0 1-3 * * *', zone: NY }), '2026-03-08T05:00:00Z', 3)).toEqual([
      '2026-03-08T06:00:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T05:00:00.000Z',
    ]);
  });

  it('fall back 2026-11-01: a time in the repeated hour fires once, at its first occurrence (EDT)', () => {
    expect(ticks(spec({ cron: '30 1 * * *', zone: NY }), '2026-10-31T12:00:00Z')).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
      '2026-11-03T06:30:00.000Z',
    ]);
    const s = spec({ cron: '30 1 * * *', zone: NY });
    expect(iso(s.prev(ms('2026-11-01T07:00:00Z')))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(s.next(ms('2026-11-01T06:00:00Z')))).toBe('2026-11-02T06:30:00.000Z');
    // hour `*` too: 01:00 and 01:30 EST (06:00Z, 06:30Z) do not fire again
    expect(ticks(spec({ cron: '0,30 * * * *', zone: NY }), '2026-11-01T04:45:00Z', 4)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T07:00:00.000Z',
      '2026-11-01T07:30:00.000Z',
    ]);
    expect(iso(spec({ cron: '* * * * * *', zone: NY }).next(ms('2026-11-01T06:00:00Z')))).toBe('2026-11-01T07:00:00.000Z');
  });

  it("documents why we do not use cron-parser's tz option: 5.10.5 disagrees with itself on these days", () => {
    const raw = (cron: string, tz: string, from: string) => CronExpressionParser.parse(cron, { tz, currentDate: new Date(from) });
    expect(raw('30 2 * * *', NY, '2026-03-08T07:10:00Z').next().toISOString()).toBe('2026-03-09T06:30:00.000Z'); // skips 03:30 EDT
    expect(raw('30 2 * * *', NY, '2026-03-09T00:00:00Z').prev().toISOString()).toBe('2026-03-07T07:30:00.000Z'); // and backwards
    expect(raw('30 1 * * *', NY, '2026-11-01T07:00:00Z').prev().toISOString()).toBe('2026-11-01T06:30:00.000Z'); // 01:30 EST
    expect(raw('15,45 0-3 * * *', NY, '2026-11-01T06:00:00Z').next().toISOString()).toBe('2026-11-01T06:15:00.000Z'); // 01:15 EST
    expect(raw('0 * * * *', NY, '2026-11-01T05:30:00Z').next().toISOString()).toBe('2026-11-01T06:00:00.000Z'); // 01:00 EST
    const lordHowe = raw('0 * * * *', 'Australia/Lord_Howe', '2026-04-04T12:00:00Z');
    expect(() => {
      for (let i = 0; i < 30; i++) lordHowe.next();
    }).toThrow(/loop limit exceeded/);
  });

  /** The zone's UTC offset at `t`, in ms, from Intl's `GMT+10:30`-style names. */
  const offsetFormats = new Map<string, Intl.DateTimeFormat>();
  function offset(zone: string, t: number): number {
    if (!offsetFormats.has(zone)) offsetFormats.set(zone, new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'shortOffset' }));
    const name = offsetFormats.get(zone)!.format(t);
    const m = /GMT(?:([+-])(\d+)(?::(\d+))?)?$/.exec(name)!;
    return (m[1] === '-' ? -1 : 1) * (Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 60_000;
  }

  /** The documented rule, computed independently of cron-parser's zone handling: each matching
   * wall-clock time fires once, read with the offset in force before the transition. */
  function expectedTicks(cron: string, zone: string, day: string): number[] {
    const fields = CronExpressionParser.parse(cron, { tz: 'UTC' });
    const midnight = ms(`${day}T00:00:00Z`);
    const [pre, post] = [offset(zone, midnight - 86_400_000), offset(zone, midnight + 2 * 86_400_000)];
    expect(pre).not.toBe(post);
    const out = new Set<number>();
    for (let w = midnight - 86_400_000; w < midnight + 2 * 86_400_000; w += 60_000) {
      if (!fields.includesDate(new Date(w))) continue;
      const [viaPre, viaPost] = [w - pre, w - post];
      const [okPre, okPost] = [offset(zone, viaPre) === pre, offset(zone, viaPost) === post];
      out.add(okPre && okPost ? Math.min(viaPre, viaPost) : okPost && !okPre ? viaPost : viaPre);
    }
    return [...out].sort((a, b) => a - b);
  }

  it.each([
    [NY, '2026-03-08'],
    [NY, '2026-11-01'],
    ['Europe/London', '2026-03-29'],
    ['Europe/London', '2026-10-25'],
    ['Australia/Lord_Howe', '2026-10-04'],
    ['Australia/Lord_Howe', '2026-04-05'], // 30-minute shifts
  ])('next() and prev() from any instant follow that rule (%s, %s)', (zone, day) => {
    const crons = [
      '30 2 * * *',
      '0 2 * * *',
      '30 1 * * *',
      '45 1 * * *',
      '15 2 * * *',
      '0 3 * * *',
      '0 * * * *',
      '*/20 * * * *',
      '* 1 * * *',
      '15,45 0-3 * * *',
      '0 */2 * * *',
      '0 1-2 * * *',
      '59 1,2 * * *',
      '0 0 * * *',
      '0 9 * * 1-5',
    ];
    for (const cron of crons) {
      const s = spec({ cron, zone });
      const expected = expectedTicks(cron, zone, day);
      const starts = expected.flatMap((t) => [t - 1, t, t + 30_000]);
      for (let x = ms(`${day}T00:00:00Z`) - 43_200_000; x < ms(`${day}T00:00:00Z`) + 129_600_000; x += 13 * 60_000) starts.push(x);
      for (const x of starts) {
        const wantNext = expected.find((t) => t > x);
        const wantPrev = expected.findLast((t) => t <= x);
        if (wantNext !== undefined && wantPrev !== undefined) {
          expect([cron, iso(x), iso(s.next(x)), iso(s.prev(x))]).toEqual([cron, iso(x), iso(wantNext), iso(wantPrev)]);
        }
      }
    }
  });
});

describe('compileSchedule: every', () => {
  it.each([
    ['5m', '2026-01-01T10:02:30Z', ['2026-01-01T10:05:00.000Z', '2026-01-01T10:10:00.000Z']],
    [{ minutes: 5 }, '2026-01-01T10:05:00Z', ['2026-01-01T10:10:00.000Z', '2026-01-01T10:15:00.000Z']],
    [300_000, '2026-01-01T10:04:59.999Z', ['2026-01-01T10:05:00.000Z', '2026-01-01T10:10:00.000Z']],
    ['7m', '2026-01-01T10:00:00Z', ['2026-01-01T10:02:00.000Z', '2026-01-01T10:09:00.000Z']], // epoch-aligned, not hour-aligned
    ['250ms', '2026-01-01T00:00:00.100Z', ['2026-01-01T00:00:00.250Z', '2026-01-01T00:00:00.500Z']],
    ['1h30m', '2026-01-01T00:00:00Z', ['2026-01-01T01:30:00.000Z', '2026-01-01T03:00:00.000Z']],
  ] as const)('every %j aligns ticks to multiples since the Unix epoch', (every, from, expected) => {
    const s = spec({ every });
    expect(ticks(s, from, 2)).toEqual(expected);
    expect(iso(s.prev(ms(expected[1])))).toBe(expected[1]);
    expect(iso(s.prev(ms(expected[1]) - 1))).toBe(expected[0]);
  });

  it('describes the interval compactly', () => {
    expect(spec({ every: '5m' }).description).toBe('every 5m');
    expect(spec({ every: { hours: 1, minutes: 30 } }).description).toBe('every 1h30m');
    expect(spec({ every: 250 }).description).toBe('every 250ms');
  });
});

describe('compileSchedule: at', () => {
  it('fires once, at the given instant', () => {
    const t = ms('2026-12-25T00:00:00Z');
    for (const at of [new Date(t), '2026-12-25T00:00:00Z', '2026-12-25T01:00:00+01:00', '2026-12-24T19:00:00.000-05:00']) {
      const s = spec({ at });
      expect(s).toMatchObject({ kind: 'at', description: 'at 2026-12-25T00:00:00.000Z' });
      expect([s.next(t - 1), s.next(t), s.prev(t), s.prev(t - 1)]).toEqual([t, null, t, null]);
    }
  });

  it('accepts a time in the past; it has no next tick', () => {
    const s = spec({ at: '2020-01-01T00:00:00Z' });
    expect(s.next(Date.now())).toBeNull();
    expect(iso(s.prev(Date.now()))).toBe('2020-01-01T00:00:00.000Z');
  });
});

describe('compileSchedule: errors', () => {
  it('returns null when there is nothing to schedule', () => {
    expect(compileSchedule({}, SRC)).toBeNull();
  });

  it.each<[string, ScheduleInput, string, RegExp]>([
    ['empty cron', { cron: '' }, 'cron', /""/],
    ['blank cron', { cron: '   ' }, 'cron', /"   "/],
    ['empty list', { cron: [] }, 'cron', /empty list/],
    ['invalid expression', { cron: '61 * * * *' }, 'cron', /"61 \* \* \* \*"/],
    ['garbage', { cron: 'a b c d e' }, 'cron', /"a b c d e"/],
    ['too few fields', { cron: '5' }, 'cron', /"5" has 1 fields/],
    ['too many fields', { cron: '0 0 0 1 1 * 2026' }, 'cron', /has 7 fields/],
    ['unknown macro', { cron: '@minutely' }, 'cron', /unknown macro "@minutely"/],
    ['W', { cron: '0 0 15W * *' }, 'cron', /"0 0 15W \* \*"/],
    ['#L', { cron: '0 0 * * 1#L' }, 'cron', /"0 0 \* \* 1#L"/],
    ['H', { cron: 'H 6 * * *' }, 'cron', /"H"/],
    ['never fires', { cron: '0 0 30 2 *' }, 'cron', /"0 0 30 2 \*"/],
    ['bad list item', { cron: ['0 6 * * *', 'nope'] }, 'cron', /"nope"/],
    ['@reboot in a list', { cron: ['@reboot', '0 6 * * *'] }, 'cron', /"@reboot" cannot be combined/],
    ['unknown zone', { cron: '0 6 * * *', zone: 'Mars/Olympus' }, 'zone', /"Mars\/Olympus"/],
    ['empty zone', { cron: '0 6 * * *', zone: '' }, 'zone', /IANA/],
    ['zone without cron', { every: '5m', zone: NY }, 'zone', /only applies to cron/],
    ['zone alone', { zone: NY }, 'zone', /only applies to cron/],
    ['cron and every', { cron: '0 6 * * *', every: '5m' }, 'every', /mutually exclusive/],
    ['cron and at', { cron: '0 6 * * *', at: new Date() }, 'at', /mutually exclusive/],
    ['every and at', { every: '5m', at: new Date() }, 'at', /mutually exclusive/],
    ['every zero', { every: 0 }, 'every', /at least 1/],
    ['every fraction', { every: 0.5 }, 'every', /whole number/],
    ['every garbage', { every: '5x' }, 'every', /"5x" is not a duration/],
    ['every negative', { every: -1 }, 'every', /non-negative/],
    ['at without zone', { at: '2026-12-25T00:00:00' }, 'at', /time zone/],
    ['at date only', { at: '2026-12-25' }, 'at', /"2026-12-25"/],
    ['at impossible date', { at: '2026-02-30T00:00:00Z' }, 'at', /2026-02-30/],
    ['at invalid Date', { at: new Date(Number.NaN) }, 'at', /valid Date/],
  ])('%s', (_name, input, option, detail) => {
    let error: unknown;
    try {
      compileSchedule(input, SRC);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SchedulerConfigError);
    const e = error as SchedulerConfigError;
    expect([e.source, e.option]).toEqual([SRC, option]);
    expect(e.message).toContain(`${SRC}: invalid option "${option}"`);
    expect(e.message).toMatch(detail);
  });
});
