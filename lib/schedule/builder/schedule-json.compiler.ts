import { SchedulerConfigError } from '../../scheduler.errors.js';
import { compileSchedule, type ScheduleSpec } from '../schedule-spec.js';
import { ScheduleBuilderError } from './schedule-builder.errors.js';
import { WEEKDAYS, type ScheduleJson } from './schedule-json.js';
import { withJitter } from './schedule-json.jitter.js';
import { parseTimeOfDay } from './time-of-day.js';
import { instantOf, wallClock } from './zone-time.js';
import { shown } from '../../common/shown.js';

const DAY_MS = 86_400_000;
/** A filter that rejects this many ticks in a row is treated as never matching. */
const MAX_SKIPS = 100_000;

/**
 * Compiles a builder spec into the planner's {@link ScheduleSpec}: the base
 * rule (cron, interval or one instant), then window, days, day step, start,
 * end, maxRuns and jitter, each as a pure function of time so every node
 * computes the same ticks.
 * @param registeredAt what `anchor: null` means (the insert time); `undefined`
 *   where there is no single registration instant (decorators): such a spec is refused.
 * @throws ScheduleBuilderError naming the field at fault.
 * @internal
 */
export function compileScheduleJson(json: ScheduleJson, registeredAt?: number): ScheduleSpec {
  const fail = (option: string, detail: string): never => {
    throw new ScheduleBuilderError(option, detail);
  };
  if (!json || typeof json !== 'object') fail('schedule', 'expected a builder or its toSpec() JSON');
  const base = wrap(() => compileBase(json, registeredAt, fail));
  if (json.kind === 'once') return base;
  const tz = json.tz;
  const instant = (field: 'start' | 'end', value: string | undefined) =>
    value === undefined ? undefined : wrap(() => compileSchedule({ at: value }, 'schedule')!.next(-Infinity)!, field);
  const start = instant('start', json.start);
  const end = instant('end', json.end);
  const allowed = filterOf(json, registeredAt, fail);
  const window = json.window ? json.window.between.map((t, i) => parseTimeOfDay(t, i ? 'between (end)' : 'between (start)')) : undefined;
  if (window && window[1]! <= window[0]!) fail('between', 'the end must be later than the start on the same day (a window across midnight is not supported)');
  const days = json.days ? new Set(json.days.map((d) => WEEKDAYS.indexOf(d))) : undefined;
  if (days?.has(-1)) fail('days', `expected weekday names ${WEEKDAYS.join(', ')}, got ${shown(json.days)}`);
  const jump = (t: number) => nextAllowedDay(t, tz, window, days);
  const jumpBack = (t: number) => prevAllowedDay(t, tz, window, days);
  let spec: ScheduleSpec = {
    kind: base.kind,
    description: base.description,
    next(after) {
      let t = base.next(start === undefined ? after : Math.max(after, start - 1));
      for (let i = 0; t !== null && i < MAX_SKIPS; i++) {
        if (end !== undefined && t > end) return null;
        if (allowed(t)) return t;
        t = base.next(Math.max(t, jump(t) - 1));
      }
      return null;
    },
    prev(atOrBefore) {
      let t = base.prev(end === undefined ? atOrBefore : Math.min(atOrBefore, end));
      for (let i = 0; t !== null && i < MAX_SKIPS; i++) {
        if (start !== undefined && t < start) return null;
        if (allowed(t)) return t;
        t = base.prev(Math.min(t - 1, jumpBack(t)));
      }
      return null;
    },
  };
  if (json.maxRuns !== undefined) spec = withMaxRuns(spec, json.maxRuns, start ?? registeredAt, fail);
  if (json.jitter) spec = withJitter(spec, json.jitter, fail);
  return spec;
}

/** Turns the engine's own config errors into builder errors (the caller maps them to its error type). */
function wrap<T>(fn: () => T, option?: string): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SchedulerConfigError) throw new ScheduleBuilderError(option ?? error.option, error.message);
    throw error;
  }
}

function compileBase(json: ScheduleJson, registeredAt: number | undefined, fail: (o: string, d: string) => never): ScheduleSpec {
  if (json.kind === 'once') return compileSchedule({ at: json.at }, 'schedule')!;
  if (json.kind === 'cron') return compileSchedule({ cron: json.cron, zone: json.tz }, 'schedule')!;
  if (json.kind !== 'interval') return fail('kind', `expected 'cron', 'interval' or 'once', got ${shown((json as { kind: unknown }).kind)}`);
  const every = json.everyMs;
  if (!Number.isInteger(every) || every < 1) fail('every', `expected a whole number of milliseconds, at least 1; got ${every}`);
  const anchor = anchorOf(json.anchor, registeredAt, fail);
  compileSchedule({ cron: '* * * * *', zone: json.tz }, 'schedule'); // validates the zone
  return {
    kind: 'every',
    description: `every ${every}ms from ${new Date(anchor).toISOString()}`,
    next: (after) => anchor + (Math.floor((after - anchor) / every) + 1) * every,
    prev: (atOrBefore) => anchor + Math.floor((atOrBefore - anchor) / every) * every,
  };
}

function anchorOf(anchor: string | null | undefined, registeredAt: number | undefined, fail: (o: string, d: string) => never): number {
  if (anchor === null || anchor === undefined) {
    if (registeredAt === undefined) {
      fail(
        'startAt',
        'this schedule counts from its start, and a decorator has no start shared by every node and restart; give .startAt(date) (or .startingOn(date))',
      );
    }
    return registeredAt!;
  }
  return wrap(() => compileSchedule({ at: anchor }, 'schedule')!.next(-Infinity)!, 'anchor');
}

/** The day-step rule (`every(2).days()`): only every n-th local day from the anchor's. */
function filterOf(
  json: Exclude<ScheduleJson, { kind: 'once' }>,
  registeredAt: number | undefined,
  fail: (o: string, d: string) => never,
): (t: number) => boolean {
  const window = json.window?.between.map((t) => parseTimeOfDay(t, 'between'));
  const days = json.days?.map((d) => WEEKDAYS.indexOf(d));
  const step = json.kind === 'cron' ? (json.everyDays ?? 1) : 1;
  if (!Number.isInteger(step) || step < 1) fail('everyDays', `expected a whole number, at least 1; got ${step}`);
  const from = step > 1 ? wallClock(anchorOf((json as { anchor?: string | null }).anchor, registeredAt, fail), json.tz).day : 0;
  return (t) => {
    const wall = wallClock(t, json.tz);
    if (window && (wall.time < window[0]! || wall.time >= window[1]!)) return false;
    if (days && !days.includes(wall.weekday)) return false;
    return (wall.day - from) % step === 0;
  };
}

/** The first instant at or after `t` that the window and days allow (`t` itself when allowed). */
function nextAllowedDay(t: number, tz: string, window: number[] | undefined, days: Set<number> | undefined): number {
  const wall = wallClock(t, tz);
  for (let d = 0; d <= 7; d++) {
    if (days && !days.has((wall.weekday + d) % 7)) continue;
    const open = window?.[0] ?? 0;
    if (d > 0) return instantOf(wall.day + d, open, tz);
    if (wall.time < open) return instantOf(wall.day, open, tz);
    if (!window || wall.time < window[1]!) return t;
  }
  return t + DAY_MS;
}

/** The last instant before `t` that the window and days allow. */
function prevAllowedDay(t: number, tz: string, window: number[] | undefined, days: Set<number> | undefined): number {
  const wall = wallClock(t, tz);
  for (let d = 0; d <= 7; d++) {
    if (days && !days.has((((wall.weekday - d) % 7) + 7) % 7)) continue;
    const close = window?.[1] ?? DAY_MS;
    if (d > 0) return instantOf(wall.day - d, 0, tz) + Math.min(close, DAY_MS) - 1;
    if (wall.time >= close) return instantOf(wall.day, close, tz) - 1;
    if (!window || wall.time >= window[0]!) return t;
  }
  return t - DAY_MS;
}

/** Ends the schedule at its `max`-th tick at or after `from`. */
function withMaxRuns(spec: ScheduleSpec, max: number, from: number | undefined, fail: (o: string, d: string) => never): ScheduleSpec {
  if (!Number.isInteger(max) || max < 1 || max > 100_000) fail('maxRuns', `expected a whole number from 1 to 100000, got ${max}`);
  if (from === undefined) fail('maxRuns', 'counts runs from the start, and a decorator has no start shared by every node and restart; give .startAt(date)');
  let last: number | null | undefined;
  const lastTick = () => {
    if (last !== undefined) return last;
    let t = spec.next(from! - 1);
    for (let i = 1; i < max && t !== null; i++) t = spec.next(t);
    return (last = t ?? Infinity);
  };
  return {
    ...spec,
    next: (after) => {
      const t = spec.next(after);
      return t === null || t > lastTick()! ? null : t;
    },
    prev: (atOrBefore) => spec.prev(Math.min(atOrBefore, lastTick()!)),
  };
}
