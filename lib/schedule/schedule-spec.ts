import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { parseDuration, type Duration } from '../common/duration.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import { CRON_MACROS, REBOOT_MACRO, expandCronMacro, isRebootMacro } from './cron-macros.js';
import { ZonedCron } from './zoned-cron.js';
import { JOB_INPUT_LIMITS } from '../store/job-input.validation.js';
import { shown } from '../common/shown.js';

/**
 * What a job's decorator or `schedule()` call may say about when it runs.
 * Exactly one of `cron`, `every`, `at` may be given; `zone` only goes with `cron`.
 * @internal
 */
export interface ScheduleInput {
  /**
   * A cron expression (5 fields, or 6 with seconds first), a macro such as `@daily` or `@reboot`, or a
   * list of expressions (a tick of any of them). When both day-of-month and day-of-week are
   * restricted, a day matching either fires (as in Vixie cron).
   */
  cron?: string | readonly string[];
  /** IANA time zone the cron expression is read in; default `Etc/UTC`. DST rules: see {@link ZonedCron}. */
  zone?: string;
  /** A fixed interval; ticks are multiples of it since the Unix epoch. */
  every?: Duration;
  /** A single instant: a `Date`, or an ISO-8601 string with `Z` or an offset. */
  at?: Date | string;
}

/**
 * A compiled schedule: asks "when is the next / the previous tick?" in epoch milliseconds.
 * @internal
 */
export interface ScheduleSpec {
  readonly kind: 'cron' | 'every' | 'at' | 'reboot';
  /** Human-readable, e.g. `cron "0 6 * * *" (America/New_York)`, `every 5m`, `at 2026-12-25T00:00:00.000Z`, `@reboot`. */
  readonly description: string;
  /** The first tick strictly after `after` (epoch ms), or null when there is none. For 'reboot' always null. */
  next(after: number): number | null;
  /** The latest tick at or before `atOrBefore`, or null. */
  prev(atOrBefore: number): number | null;
}

const DEFAULT_ZONE = 'Etc/UTC';

/**
 * True when the input is the @reboot macro (alone): `cron` is `@reboot` or `['@reboot']` and neither
 * `every` nor `at` is given (with those, compileSchedule reports the conflict). `zone` is not checked.
 * @internal
 */
export function isReboot(input: ScheduleInput): boolean {
  const { cron } = input;
  const list: readonly unknown[] = typeof cron === 'string' ? [cron] : Array.isArray(cron) ? cron : [];
  return list.length === 1 && typeof list[0] === 'string' && isRebootMacro(list[0]) && input.every === undefined && input.at === undefined;
}

/**
 * Compiles a schedule; returns null when input has none of cron/every/at. Throws SchedulerConfigError(source, option, detail) naming the option ('cron' | 'zone' | 'every' | 'at').
 * @internal
 */
export function compileSchedule(input: ScheduleInput, source: string): ScheduleSpec | null {
  const given = (['cron', 'every', 'at'] as const).filter((key) => input[key] !== undefined);
  if (given.length > 1) {
    throw new SchedulerConfigError(source, given[1]!, `"${given[0]}" and "${given[1]}" are mutually exclusive; give only one of cron, every, at`);
  }
  if (input.zone !== undefined && given[0] !== 'cron') {
    throw new SchedulerConfigError(source, 'zone', 'only applies to cron schedules');
  }
  if (given[0] === 'cron') return compileCron(input.cron!, input.zone ?? DEFAULT_ZONE, source);
  if (given[0] === 'every') return compileEvery(input.every!, source);
  if (given[0] === 'at') return compileAt(input.at!, source);
  return null;
}

/** Compiles `cron` (one expression, a list, or `@reboot`) read in `zone`. */
function compileCron(cron: string | readonly string[], zone: string, source: string): ScheduleSpec {
  const fail = (detail: string) => new SchedulerConfigError(source, 'cron', detail);
  const list: readonly unknown[] = typeof cron === 'string' ? [cron] : Array.isArray(cron) ? cron : [cron];
  if (list.length === 0) throw fail('expected a cron expression or a non-empty list of them, got an empty list');
  const texts = list.map((item) => {
    if (typeof item !== 'string' || item.trim() === '') throw fail(`expected a cron expression, got ${shown(item)}`);
    return item.trim();
  });
  const tz = resolveZone(zone, source);
  if (texts.some(isRebootMacro)) {
    if (texts.length > 1) throw fail(`"${REBOOT_MACRO}" cannot be combined with other expressions (${quoteAll(texts)})`);
    return { kind: 'reboot', description: REBOOT_MACRO, next: () => null, prev: () => null };
  }
  const crons = texts.map((text) => parseCron(text, tz, fail));
  return {
    kind: 'cron',
    description: `cron ${quoteAll(texts)} (${zone})`,
    next: (after) => Math.min(...crons.map((cron) => cron.next(after))),
    prev: (atOrBefore) => Math.max(...crons.map((cron) => cron.prev(atOrBefore))),
  };
}

/** Parses one expression and checks that it can fire. */
function parseCron(text: string, tz: string, fail: (detail: string) => SchedulerConfigError): ZonedCron {
  const expanded = expandCronMacro(text);
  if (expanded === undefined) throw fail(`unknown macro "${text}" (known: ${[...Object.keys(CRON_MACROS), REBOOT_MACRO].join(', ')})`);
  const fields = expanded.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw fail(`"${text}" has ${fields.length} fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)`);
  }
  // cron-parser's Jenkins-style `H` is random unless seeded, so nodes of a cluster would disagree.
  if (fields.some((field) => /h/i.test(field.replace(/[a-z]{3}/gi, '')))) throw fail(`"${text}": hashed "H" values are not supported`);
  let expr: CronExpression;
  try {
    expr = CronExpressionParser.parse(expanded, { tz: 'UTC', currentDate: Date.now() });
  } catch (err) {
    throw fail(`invalid cron expression "${text}": ${(err as Error).message}`);
  }
  try {
    expr.next();
  } catch (err) {
    throw fail(`cron expression "${text}" can never fire: ${(err as Error).message}`);
  }
  return new ZonedCron(expr, tz);
}

/** Zone names already validated, as given -> canonical (e.g. `Etc/UTC` -> `UTC`). */
const zones = new Map<string, string>();

/** Validates an IANA zone name with Intl and returns its canonical form. */
function resolveZone(zone: unknown, source: string): string {
  const fail = (detail: string) => new SchedulerConfigError(source, 'zone', detail);
  if (typeof zone !== 'string' || zone.trim() === '') throw fail(`expected an IANA time zone such as "America/New_York", got ${shown(zone)}`);
  let canonical = zones.get(zone);
  if (canonical === undefined) {
    try {
      canonical = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    } catch {
      throw fail(`unknown time zone "${zone}" (expected an IANA name such as "America/New_York")`);
    }
    zones.set(zone, canonical);
  }
  return canonical;
}

/** Compiles `every`: ticks at every multiple of the interval since the Unix epoch. */
function compileEvery(every: Duration, source: string): ScheduleSpec {
  let ms: number;
  try {
    ms = parseDuration(every);
  } catch (err) {
    throw new SchedulerConfigError(source, 'every', (err as Error).message);
  }
  if (!Number.isInteger(ms) || ms < 1) {
    throw new SchedulerConfigError(source, 'every', `must be a whole number of milliseconds, at least 1; got ${ms}`);
  }
  return {
    kind: 'every',
    description: `every ${formatMs(ms)}`,
    next: (after) => Math.floor(after / ms) * ms + ms,
    prev: (atOrBefore) => Math.floor(atOrBefore / ms) * ms,
  };
}

/** Compiles `at`: a single tick. */
function compileAt(at: Date | string, source: string): ScheduleSpec {
  const time = at instanceof Date ? at.getTime() : typeof at === 'string' ? parseIsoWithZone(at) : NaN;
  if (Number.isNaN(time)) {
    throw new SchedulerConfigError(
      source,
      'at',
      `expected a valid Date or an ISO-8601 string with a time zone (e.g. "2026-12-25T00:00:00Z"), got ${shown(at)}`,
    );
  }
  // Its job could never be stored: refused here, not at every planning of the tick.
  const { minDate, maxDate } = JOB_INPUT_LIMITS;
  if (time < minDate.getTime() || time > maxDate.getTime()) {
    throw new SchedulerConfigError(
      source,
      'at',
      `must be between years 1 and 9999 (${minDate.toISOString()} to ${maxDate.toISOString()}), got ${new Date(time).toISOString()}`,
    );
  }
  return {
    kind: 'at',
    description: `at ${new Date(time).toISOString()}`,
    next: (after) => (time > after ? time : null),
    prev: (atOrBefore) => (time <= atOrBefore ? time : null),
  };
}

/** Parses `YYYY-MM-DDTHH:mm[:ss[.fff]]` followed by `Z` or `±HH[:]MM`; NaN when malformed or out of range. */
function parseIsoWithZone(text: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(?:(Z)|([+-])(\d\d):?(\d\d))$/i.exec(text.trim());
  if (!m) return NaN;
  const [y, mo, d, h, mi, s = 0] = m.slice(1, 7).map((v) => (v === undefined ? undefined : Number(v)));
  const ms = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
  const local = Date.UTC(y!, mo! - 1, d!, h!, mi!, s, ms);
  const check = new Date(local);
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo! - 1 ||
    check.getUTCDate() !== d ||
    check.getUTCHours() !== h ||
    check.getUTCMinutes() !== mi ||
    check.getUTCSeconds() !== s
  )
    return NaN;
  if (m[8]) return local;
  const [oh, om] = [Number(m[10]), Number(m[11])];
  if (oh > 23 || om > 59) return NaN;
  return local - (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
}

/** Formats milliseconds compactly: 5400000 -> `1h30m`, 250 -> `250ms`. */
function formatMs(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ];
  let rest = ms;
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/** `"a", "b"`: each expression in double quotes. */
function quoteAll(texts: readonly string[]): string {
  return texts.map((text) => `"${text}"`).join(', ');
}
