import type { Duration } from '../../common/duration.js';
import type { ScheduleJson, ScheduleMisfire, Weekday } from './schedule-json.js';

/**
 * What every builder can do, whatever its rule: turn into data, say in words
 * when it runs, list its next runs.
 * @publicApi
 */
export interface ScheduleBuilderBase {
  /** The schedule as plain JSON: what `insert` stores and what every store keeps. */
  toSpec(): ScheduleJson;
  /** One sentence: when it runs, in which zone, and whether it is clock-aligned cron or a fixed interval. */
  describe(): string;
  /**
   * The next `n` runs strictly after `from` (a fixed interval with no start
   * is anchored at `from`). The extra run of `.runOnStart()` is not listed.
   * @param from @default now (`Date.now()`)
   */
  nextRuns(n: number, from?: Date | number): Date[];
  /**
   * The equivalent cron expression (window and days folded in when they fit).
   * @throws CronNotExpressibleError when no single expression says the same.
   */
  toCron(): string;
  /** No new run while an earlier one is queued or running (overlap `'skip'`). @default the handler's overlap */
  withoutOverlapping(): this;
  /** What to do with runs missed while nothing ran. @default the handler's ('runOnce') */
  misfire(policy: ScheduleMisfire): this;
}

/**
 * A recurring schedule's modifiers.
 * @publicApi
 */
export interface RecurringBuilder extends ScheduleBuilderBase {
  /** The IANA zone of times of day, windows and days. @default 'Etc/UTC' */
  timezone(zone: string): this;
  /** One extra run as soon as the schedule is first registered (seed 004's immediate first run). @default off: the first run waits for the first tick */
  runOnStart(): this;
  /** Delays each run by a fixed pseudo-random amount below `max` (the same on every node), at most 1 h. @default none */
  jitter(max: Duration): this;
  /** Stops after `n` runs counted from the start (`startAt`, or the insert). @default no limit */
  maxRuns(n: number): this;
  /** No run before `date`; also the anchor of a fixed interval and of a day step. @default registration (the insert) */
  startAt(date: Date | string): this;
  /** Same as {@link RecurringBuilder.startAt}. */
  startingOn(date: Date | string): this;
  /** No run after `date`. @default none */
  endAt(date: Date | string): this;
  /**
   * Not supported: every schedule but `@reboot` runs once per tick for the
   * whole cluster. Always throws `ScheduleBuilderError`; typed `never` so that
   * a chain using it does not compile.
   */
  onEveryNode(): never;
}

/**
 * Restricts a schedule to some days of the week.
 * @publicApi
 */
export interface DaysFilter {
  /** Only Monday to Friday, in the schedule's zone. @default every day */
  weekdays(): this;
  /** Only Saturday and Sunday. @default every day */
  weekends(): this;
  /** Only these days. @default every day */
  onDays(...days: [Weekday, ...Weekday[]]): this;
}

/**
 * A schedule that ticks several times a day (seconds, minutes, hours, cron).
 * @publicApi
 */
export interface WindowedBuilder extends RecurringBuilder, DaysFilter {
  /** Only from `start` (included) to `end` (excluded), wall clock in the schedule's zone, e.g. `('09:00', '17:00')`. @default all day */
  between(start: string, end: string): this;
}

/**
 * A schedule that ticks at a time of day once its day comes.
 * @publicApi
 */
export interface DailyBuilder<B = unknown> extends RecurringBuilder, DaysFilter {
  /** The time of day: `'14:30'`, `'14:30:15'`, `'10:30pm'`, `'8am'`. @default '00:00' */
  at(time: string): TimedBuilder & B;
}

/**
 * A daily schedule whose time of day is set.
 * @publicApi
 */
export interface TimedBuilder extends RecurringBuilder, DaysFilter {}

/**
 * A single run (`at(date)`).
 * @publicApi
 */
export type OnceBuilder = ScheduleBuilderBase;

/**
 * Any finished builder.
 * @publicApi
 */
export type AnyScheduleBuilder = ScheduleBuilderBase;

/**
 * Units after `every()` (one of each).
 * @publicApi
 */
export interface EverySingular<B = unknown> {
  second(): WindowedBuilder & B;
  minute(): WindowedBuilder & B;
  hour(): WindowedBuilder & B;
  /** Every day at `.at(time)` (00:00 by default). */
  day(): DailyBuilder<B> & B;
  /** Every 7 days from the start (`startAt`, or the insert). */
  week(): DailyBuilder<B> & B;
  /** Monday to Friday. */
  weekday(): DailyBuilder<B> & B;
  monday(): DailyBuilder<B> & B;
  tuesday(): DailyBuilder<B> & B;
  wednesday(): DailyBuilder<B> & B;
  thursday(): DailyBuilder<B> & B;
  friday(): DailyBuilder<B> & B;
  saturday(): DailyBuilder<B> & B;
  sunday(): DailyBuilder<B> & B;
}

/**
 * Units after `every(n)`: clock-aligned cron when `n` divides the next unit
 * (60 seconds or minutes, 24 hours), otherwise a fixed interval from the start.
 * @publicApi
 */
export interface EveryPlural<B = unknown> {
  seconds(): WindowedBuilder & B;
  minutes(): WindowedBuilder & B;
  hours(): WindowedBuilder & B;
  /** Every n-th calendar day from the start, at `.at(time)`. */
  days(): DailyBuilder<B> & B;
  /** Every n-th week from the start, at `.at(time)`. */
  weeks(): DailyBuilder<B> & B;
}

/**
 * A builder, or the JSON its `toSpec()` gave: what the `schedule` option of
 * `@Scheduled`, `@Worker` and `scheduler.insert` accepts.
 * @publicApi
 */
export type ScheduleBuilderInput = AnyScheduleBuilder | ScheduleJson;
