import { compileSchedule } from '../schedule-spec.js';
import { ScheduleBuilderError } from './schedule-builder.errors.js';
import type { DailyBuilder, EveryPlural, EverySingular, OnceBuilder, WindowedBuilder } from './schedule-builder.types.js';
import { WEEKDAYS, type Weekday } from './schedule-json.js';
import { ScheduleBuilder, type BuilderRule, type BuilderRunner } from './schedule.builder.js';
import { shown } from '../../common/shown.js';

const SIZES = { second: 1_000, minute: 60_000, hour: 3_600_000 } as const;
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** The rule of `every(n).<unit>()`: cron when `n` divides the next unit up, a fixed interval otherwise. */
function subDay(n: number, unit: keyof typeof SIZES): BuilderRule {
  const per = unit === 'hour' ? 24 : 60;
  if (per % n !== 0) return { kind: 'interval', everyMs: n * SIZES[unit] };
  const step = n === 1 ? '*' : `*/${n}`;
  const cron = unit === 'second' ? `${step} * * * * *` : unit === 'minute' ? `${step} * * * *` : `0 ${step} * * *`;
  return { kind: 'cron', cron };
}

/**
 * The unit methods of `every(n)`, on builders that share `runner` (for `.do()`).
 * @internal
 */
export function everyUnits(n: number | undefined, runner?: BuilderRunner): EverySingular & EveryPlural {
  const count = n ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new ScheduleBuilderError('every', `expected a whole number, at least 1; got ${String(n)}`);
  const make = (rule: BuilderRule) => new ScheduleBuilder(rule, runner) as unknown as WindowedBuilder & DailyBuilder;
  const daily = (everyDays: number, dow = '*') => make({ kind: 'daily', dow, everyDays });
  const units = {
    seconds: () => make(subDay(count, 'second')),
    minutes: () => make(subDay(count, 'minute')),
    hours: () => make(subDay(count, 'hour')),
    days: () => daily(count),
    weeks: () => daily(7 * count),
    weekday: () => daily(1, '1-5'),
  };
  const days = Object.fromEntries(DAY_NAMES.map((name, d) => [name, () => daily(1, String(d))]));
  return {
    ...units,
    second: units.seconds,
    minute: units.minutes,
    hour: units.hours,
    day: units.days,
    week: units.weeks,
    ...days,
  } as unknown as EverySingular & EveryPlural;
}

/**
 * Starts a recurring schedule: `every().day().at('14:30')`, `every(5).minutes()`.
 * `every(n)` with seconds or minutes is clock-aligned cron when `n` divides
 * 60 (hours: 24), otherwise a fixed interval anchored at its start;
 * `.describe()` says which.
 * Without `n`: one unit between runs (singular units: `.minute()`, `.day()`, `.monday()` …).
 * @publicApi
 */
export function every(): EverySingular;
/**
 * Starts a recurring schedule every `n` units (plural units: `.minutes()`, `.days()` …).
 * @param n how many units between runs.
 * @publicApi
 */
export function every(n: number): EveryPlural;
/**
 * Implementation of both overloads.
 * @publicApi
 */
export function every(n?: number): EverySingular | EveryPlural {
  return everyUnits(n);
}

/**
 * A schedule on some days of the week, at `.at(time)` (00:00 by default):
 * `on('mon', 'thu').at('08:00')`. Clock-aligned cron.
 * @publicApi
 */
export function on(...days: [Weekday, ...Weekday[]]): DailyBuilder {
  if (days.length === 0 || days.some((d) => !WEEKDAYS.includes(d))) {
    throw new ScheduleBuilderError('on', `expected weekday names ${WEEKDAYS.join(', ')}, got ${shown(days)}`);
  }
  const indexes = WEEKDAYS.map((d, i) => (days.includes(d) ? i : -1)).filter((i) => i >= 0);
  return new ScheduleBuilder({ kind: 'daily', dow: indexes.join(','), everyDays: 1 }) as unknown as DailyBuilder;
}

/**
 * A schedule from a cron expression (5 fields, or 6 with seconds first, or a
 * macro such as `@daily`; not `@reboot`), read in `.timezone()` (UTC by default).
 * @throws ScheduleBuilderError when the expression is invalid.
 * @publicApi
 */
export function cron(expression: string): WindowedBuilder {
  if (typeof expression !== 'string') throw new ScheduleBuilderError('cron', `expected a cron expression, got ${shown(expression)}`);
  try {
    compileSchedule({ cron: expression }, 'cron');
  } catch (error) {
    throw new ScheduleBuilderError('cron', (error as Error).message);
  }
  if (/^\s*@reboot\s*$/i.test(expression)) throw new ScheduleBuilderError('cron', '@reboot is not a builder schedule; use @Scheduled({ cron: "@reboot" })');
  return new ScheduleBuilder({ kind: 'cron', cron: expression.trim() }) as unknown as WindowedBuilder;
}

/**
 * A single run at `date` (a Date, or ISO 8601 with `Z` or an offset).
 * @throws ScheduleBuilderError when the date is invalid.
 * @publicApi
 */
export function at(date: Date | string): OnceBuilder {
  let iso: string;
  try {
    iso = new Date(compileSchedule({ at: date }, 'at')!.next(-Infinity)!).toISOString();
  } catch (error) {
    throw new ScheduleBuilderError('at', (error as Error).message);
  }
  return new ScheduleBuilder({ kind: 'once', at: iso });
}
