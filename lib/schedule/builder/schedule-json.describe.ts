import { CronNotExpressibleError } from './schedule-builder.errors.js';
import { WEEKDAYS, type ScheduleJson, type Weekday } from './schedule-json.js';
import { formatTimeOfDay, parseTimeOfDay } from './time-of-day.js';

const UNITS: [string, number][] = [
  ['week', 604_800_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
  ['millisecond', 1],
];

/** `5 minutes`, `1 hour`, `90 minutes`: the largest unit that divides `ms` exactly. */
function amount(ms: number): string {
  const [unit, size] = UNITS.find(([, size]) => ms % size === 0)!;
  const n = ms / size;
  return n === 1 ? unit : `${n} ${unit}s`;
}

const NAMES: Record<Weekday, string> = { sun: 'Sunday', mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday' };

function daysText(days: readonly Weekday[]): string {
  const set = new Set(days);
  if (set.size === 5 && ['mon', 'tue', 'wed', 'thu', 'fri'].every((d) => set.has(d as Weekday))) return 'on weekdays';
  if (set.size === 2 && set.has('sat') && set.has('sun')) return 'on weekends';
  return `on ${WEEKDAYS.filter((d) => set.has(d))
    .map((d) => NAMES[d])
    .join(', ')}`;
}

const DAY_LABELS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Words for the cron shapes the builder writes (`*\/5 * * * *`, `30 14 * * 1,4` …); other expressions are quoted. */
function cronWords(cron: string, everyDays = 1): string {
  return cronPhrase(cron, everyDays) ?? `On cron "${cron}"`;
}

/**
 * Plain words for a cron expression of a shape people write by hand and
 * the builder writes (every N seconds, minutes or hours; at a time every
 * day, every weekday or on given days), `null` for any other.
 * @internal
 */
export function cronPhrase(cron: string, everyDays = 1): string | null {
  const f = cron.trim().split(/\s+/);
  const step = (field: string, unit: string) => (field === '*' ? `Every ${unit}` : /^\*\/\d+$/.test(field) ? `Every ${field.slice(2)} ${unit}s` : null);
  const rest = (from: number) => f.slice(from).every((x) => x === '*');
  // A step in the first field with the rest open; a fixed value there falls through to the time of day.
  const stepped =
    (f.length === 6 && rest(1) && step(f[0]!, 'second')) ||
    (f.length === 5 && rest(1) && step(f[0]!, 'minute')) ||
    (f.length === 5 && f[0] === '0' && rest(2) && step(f[1]!, 'hour'));
  if (stepped) return stepped;
  if (f.length !== 5 && f.length !== 6) return null;
  const [sec, min, hour, dom, month, dow] = f.length === 6 ? f : ['0', ...f];
  if (![sec, min, hour].every((x) => /^\d+$/.test(x!)) || dom !== '*' || month !== '*') return null;
  const time = formatTimeOfDay(((Number(hour) * 60 + Number(min)) * 60 + Number(sec)) * 1000);
  const weeks = everyDays % 7 === 0 ? everyDays / 7 : 0;
  const period = weeks === 1 ? 'Every week' : weeks ? `Every ${weeks} weeks` : everyDays > 1 ? `Every ${everyDays} days` : 'Every day';
  if (dow === '*') return `${period} at ${time}`;
  if (dow === '1-5') return `Every weekday at ${time}`;
  if (!/^\d(,\d)*$/.test(dow!)) return null;
  const days = dow!.split(',').map((d) => DAY_LABELS[Number(d) % 7]!);
  return `Every ${days.length === 1 ? days[0] : `${days.slice(0, -1).join(', ')} and ${days.at(-1)}`} at ${time}`;
}

/**
 * One sentence saying when a spec runs and how it is aligned, e.g.
 * `Every 5 minutes between 09:00 and 17:00 on weekdays (Europe/Paris); clock-aligned: cron "*\/5 * * * *"`.
 * @internal
 */
export function describeScheduleJson(json: ScheduleJson): string {
  if (json.kind === 'once') return `Once at ${json.at}${policies(json)}`;
  let text = json.kind === 'interval' ? `Every ${amount(json.everyMs)}` : cronWords(json.cron, json.everyDays);
  if (json.kind === 'cron' && json.everyDays && json.everyDays > 1) text += `, counted from ${json.anchor ?? 'the day it is registered'}`;
  if (json.window) text += ` between ${json.window.between[0]} and ${json.window.between[1]}`;
  if (json.days) text += ` ${daysText(json.days)}`;
  text += ` (${json.tz})`;
  text +=
    json.kind === 'cron'
      ? `; clock-aligned: cron "${json.cron}"`
      : `; a fixed interval anchored at ${json.anchor ?? 'registration (the insert)'}, not aligned to the clock`;
  if (json.start) text += `; from ${json.start}`;
  if (json.end) text += `; until ${json.end}`;
  if (json.maxRuns) text += `; at most ${json.maxRuns} run${json.maxRuns > 1 ? 's' : ''}`;
  if (json.jitter) text += `; each run delayed by up to ${amount(json.jitter)} (jitter)`;
  if (json.runOnStart) text += '; also runs once when first registered';
  return text + policies(json);
}

function policies(json: ScheduleJson): string {
  let text = '';
  if (json.overlap === 'skip') text += '; skipped while the previous run is queued or running';
  if (json.misfire !== undefined) text += `; misfire ${typeof json.misfire === 'string' ? json.misfire : `catch up ${String(json.misfire.catchUp)}`}`;
  return text;
}

/**
 * The one cron expression equivalent to a spec (window and days folded in when they fit).
 * @throws CronNotExpressibleError when there is none.
 * @internal
 */
export function scheduleJsonToCron(json: ScheduleJson): string {
  const refuse = (reason: string): never => {
    throw new CronNotExpressibleError(reason);
  };
  if (json.kind === 'once') return refuse('a one-time run is not a cron schedule');
  if (json.kind === 'interval') return refuse(`a fixed interval of ${amount(json.everyMs)} is not aligned to the clock`);
  if (json.everyDays && json.everyDays > 1) refuse(`every ${json.everyDays} days counts days from an anchor`);
  if (json.start || json.end || json.maxRuns) refuse('start, end and maxRuns are not part of cron');
  if (json.jitter) refuse('jitter is not part of cron');
  const fields = json.cron.trim().split(/\s+/);
  if (fields.length < 5) refuse(`"${json.cron}" is a macro; expand it first`);
  const seconds = fields.length === 6;
  const [hourIndex, dowIndex] = seconds ? [2, 5] : [1, 4];
  if (json.window) {
    const [open, close] = json.window.between.map((t) => parseTimeOfDay(t, 'between'));
    if (open! % 3_600_000 || close! % 3_600_000) refuse('a window that does not start and end on the hour');
    if (fields[hourIndex] !== '*') refuse('the expression already restricts hours');
    fields[hourIndex] = `${open! / 3_600_000}-${close! / 3_600_000 - 1}`;
  }
  if (json.days) {
    if (fields[dowIndex] !== '*' || fields[dowIndex - 2] !== '*') refuse('the expression already restricts days');
    fields[dowIndex] = json.days
      .map((d) => WEEKDAYS.indexOf(d))
      .sort((a, b) => a - b)
      .join(',');
  }
  return fields.join(' ');
}
