import { parseDuration, type Duration } from '../../common/duration.js';
import { compileSchedule } from '../schedule-spec.js';
import { ScheduleBuilderError } from './schedule-builder.errors.js';
import { compileScheduleJson } from './schedule-json.compiler.js';
import { MAX_JITTER_MS } from './schedule-json.jitter.js';
import { describeScheduleJson, scheduleJsonToCron } from './schedule-json.describe.js';
import { WEEKDAYS, type ScheduleJson, type ScheduleMisfire as MisfirePolicy, type Weekday } from './schedule-json.js';
import { formatTimeOfDay, parseTimeOfDay } from './time-of-day.js';
import { shown } from '../../common/shown.js';
import { epochMs } from '../../common/epoch-ms.js';

/** The most runs `nextRuns` lists, as `SchedulerService.nextRuns`. */
const MAX_NEXT_RUNS = 1_000;

/** The rule a unit call chose, before modifiers. @internal */
export type BuilderRule =
  { kind: 'cron'; cron: string } | { kind: 'interval'; everyMs: number } | { kind: 'daily'; dow: string; everyDays: number } | { kind: 'once'; at: string };

/** Runs `.do()` for builders made by `SchedulerService.every()`. @internal */
export type BuilderRunner = (spec: ScheduleJson, args: unknown[]) => Promise<unknown>;

/**
 * The one implementation behind every builder type; the interfaces in
 * `schedule-builder.types.ts` decide which calls compile at each step, and
 * the checks here refuse the same calls from JavaScript.
 * @internal
 */
export class ScheduleBuilder {
  private tz = 'Etc/UTC';
  private time: number | undefined;
  private window: [string, string] | undefined;
  private days: Weekday[] | undefined;
  private start: string | undefined;
  private end: string | undefined;
  private runs: number | undefined;
  private jitterMs: number | undefined;
  private onStart = false;
  private overlap: 'skip' | undefined;
  private misfirePolicy: MisfirePolicy | undefined;

  constructor(
    private readonly rule: BuilderRule,
    private readonly runner?: BuilderRunner,
  ) {}

  timezone(zone: string): this {
    this.recurring('timezone');
    try {
      compileSchedule({ cron: '* * * * *', zone }, 'timezone');
    } catch (error) {
      throw new ScheduleBuilderError('timezone', (error as Error).message);
    }
    this.tz = zone;
    return this;
  }

  at(time: string): this {
    if (this.rule.kind !== 'daily') throw new ScheduleBuilderError('at', 'only after a day, week or weekday unit (every().day(), on(...))');
    if (this.time !== undefined) throw new ScheduleBuilderError('at', 'the time of day is already set');
    this.time = parseTimeOfDay(time, 'at');
    return this;
  }

  between(start: string, end: string): this {
    if (this.rule.kind !== 'cron' && this.rule.kind !== 'interval')
      throw new ScheduleBuilderError('between', 'only on schedules that tick several times a day');
    const [open, close] = [parseTimeOfDay(start, 'between'), parseTimeOfDay(end, 'between')];
    if (close <= open) throw new ScheduleBuilderError('between', 'the end must be later than the start (a window across midnight is not supported)');
    this.window = [formatTimeOfDay(open), formatTimeOfDay(close)];
    return this;
  }

  weekdays(): this {
    return this.onDays('mon', 'tue', 'wed', 'thu', 'fri');
  }

  weekends(): this {
    return this.onDays('sat', 'sun');
  }

  onDays(...days: Weekday[]): this {
    this.recurring('onDays');
    if (this.days) throw new ScheduleBuilderError('onDays', 'the days are already restricted');
    if (days.length === 0 || days.some((d) => !WEEKDAYS.includes(d))) {
      throw new ScheduleBuilderError('onDays', `expected weekday names ${WEEKDAYS.join(', ')}, got ${shown(days)}`);
    }
    this.days = WEEKDAYS.filter((d) => days.includes(d));
    return this;
  }

  runOnStart(): this {
    this.recurring('runOnStart');
    this.onStart = true;
    return this;
  }

  withoutOverlapping(): this {
    this.overlap = 'skip';
    return this;
  }

  misfire(policy: MisfirePolicy): this {
    this.misfirePolicy = policy;
    return this;
  }

  jitter(max: Duration): this {
    this.recurring('jitter');
    const ms = parseDuration(max);
    if (!Number.isInteger(ms) || ms < 0 || ms > MAX_JITTER_MS) throw new ScheduleBuilderError('jitter', `expected 0 to 1 hour, got ${String(max)}`);
    this.jitterMs = ms;
    return this;
  }

  maxRuns(n: number): this {
    this.recurring('maxRuns');
    if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new ScheduleBuilderError('maxRuns', `expected a whole number from 1 to 100000, got ${n}`);
    this.runs = n;
    return this;
  }

  startAt(date: Date | string): this {
    this.recurring('startAt');
    this.start = instant(date, 'startAt');
    return this;
  }

  startingOn(date: Date | string): this {
    return this.startAt(date);
  }

  endAt(date: Date | string): this {
    this.recurring('endAt');
    this.end = instant(date, 'endAt');
    return this;
  }

  onEveryNode(): never {
    throw new ScheduleBuilderError('onEveryNode', 'not supported: every schedule but @reboot runs once per tick for the whole cluster');
  }

  toSpec(): ScheduleJson {
    const rule = this.rule;
    if (rule.kind === 'once') return { kind: 'once', at: rule.at, ...this.policies() };
    const modifiers = {
      ...(this.window && { window: { between: this.window } }),
      ...(this.days && { days: [...this.days] }),
      ...(this.start && { start: this.start }),
      ...(this.end && { end: this.end }),
      ...(this.runs && { maxRuns: this.runs }),
      ...(this.jitterMs && { jitter: this.jitterMs }),
      ...(this.onStart && { runOnStart: true }),
      ...this.policies(),
    };
    if (rule.kind === 'interval') return { kind: 'interval', everyMs: rule.everyMs, anchor: this.start ?? null, tz: this.tz, ...modifiers };
    if (rule.kind === 'cron') return { kind: 'cron', cron: rule.cron, tz: this.tz, ...modifiers };
    const t = Math.floor((this.time ?? 0) / 1000);
    const [s, m, h] = [t % 60, Math.floor(t / 60) % 60, Math.floor(t / 3600)];
    const cron = `${s ? `${s} ` : ''}${m} ${h} * * ${rule.dow}`;
    const step = rule.everyDays > 1 ? { everyDays: rule.everyDays, anchor: this.start ?? null } : {};
    return { kind: 'cron', cron, tz: this.tz, ...step, ...modifiers };
  }

  describe(): string {
    return describeScheduleJson(this.toSpec());
  }

  nextRuns(n: number, from: Date | number = Date.now()): Date[] {
    if (!Number.isInteger(n) || n < 0 || n > MAX_NEXT_RUNS)
      throw new ScheduleBuilderError('nextRuns', `expected a whole number from 0 to ${MAX_NEXT_RUNS}, got ${shown(n)}`);
    const start = epochMs(from);
    if (start === null) throw new ScheduleBuilderError('nextRuns', `expected a valid Date or a number of ms since the epoch to start from, got ${shown(from)}`);
    const spec = compileScheduleJson(this.toSpec(), start);
    const out: Date[] = [];
    for (let t = spec.next(start); t !== null && out.length < n; t = spec.next(t)) out.push(new Date(t));
    return out;
  }

  toCron(): string {
    return scheduleJsonToCron(this.toSpec());
  }

  /** `scheduler.every(5).minutes().do(name, handler)`: inserts this schedule. */
  do(...args: unknown[]): Promise<unknown> {
    if (!this.runner) throw new ScheduleBuilderError('do', 'only on builders started from SchedulerService (scheduler.every(5).minutes().do(...))');
    return this.runner(this.toSpec(), args);
  }

  private policies(): { overlap?: 'skip'; misfire?: MisfirePolicy } {
    return { ...(this.overlap && { overlap: this.overlap }), ...(this.misfirePolicy !== undefined && { misfire: this.misfirePolicy }) };
  }

  private recurring(option: string): void {
    if (this.rule.kind === 'once') throw new ScheduleBuilderError(option, 'does not apply to a one-time run');
  }
}

function instant(date: Date | string, option: string): string {
  try {
    return new Date(compileSchedule({ at: date }, option)!.next(-Infinity)!).toISOString();
  } catch (error) {
    throw new ScheduleBuilderError(option, (error as Error).message);
  }
}
