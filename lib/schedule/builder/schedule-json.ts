import type { Duration } from '../../common/duration.js';

/**
 * A spec's misfire policy: the same values as the job option `misfire`
 * (`'runOnce'`, `'skip'`, `{ catchUp }`), declared here so specs depend on nothing.
 * @publicApi
 */
export type ScheduleMisfire = 'runOnce' | 'skip' | { catchUp: Duration };

/**
 * A day of the week, as the builder and its specs write it.
 * @publicApi
 */
export type Weekday = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';

/**
 * What every builder spec may add to its rule. All fields are plain JSON, so
 * a spec is stored as it is by every store.
 * @publicApi
 */
export interface ScheduleJsonModifiers {
  /** Ticks only from `between[0]` (included) to `between[1]` (excluded), wall clock in `tz`. @default no window */
  window?: { between: [string, string] };
  /** Ticks only on these days (in `tz`). @default every day */
  days?: Weekday[];
  /** No tick before this instant (ISO 8601). @default none */
  start?: string;
  /** No tick after this instant (ISO 8601). @default none */
  end?: string;
  /** At most this many ticks, counted from `start` (required with it). @default no limit */
  maxRuns?: number;
  /** Each tick is delayed by a fixed pseudo-random offset below this many ms, the same on every node. @default 0 */
  jitter?: number;
  /** One extra run when the schedule is first registered in the store. @default false */
  runOnStart?: boolean;
  /** `'skip'`: no new run while one is queued or running. @default the handler's overlap */
  overlap?: 'skip';
  /** @default the handler's misfire policy */
  misfire?: ScheduleMisfire;
}

/**
 * A clock-aligned schedule: ticks are the cron expression's matches in `tz`.
 * @publicApi
 */
export interface CronScheduleJson extends ScheduleJsonModifiers {
  kind: 'cron';
  /** 5 fields, or 6 with seconds first. */
  cron: string;
  /** IANA zone. @default 'Etc/UTC' */
  tz: string;
  /** Only every n-th local day, counted from `anchor`'s local date (`every(2).days()`). @default 1 */
  everyDays?: number;
  /** The first day of an `everyDays` step (ISO 8601); `null`: when it is registered. */
  anchor?: string | null;
}

/**
 * A fixed interval: ticks at `anchor + k · everyMs`, whatever the wall clock says.
 * @publicApi
 */
export interface IntervalScheduleJson extends ScheduleJsonModifiers {
  kind: 'interval';
  /** The interval in milliseconds. */
  everyMs: number;
  /** The instant of tick 0 (ISO 8601); `null`: when the schedule is registered (`insert`). */
  anchor: string | null;
  /** The zone of `window` and `days`. @default 'Etc/UTC' */
  tz: string;
}

/**
 * A single run at an instant.
 * @publicApi
 */
export interface OnceScheduleJson {
  kind: 'once';
  /** ISO 8601. */
  at: string;
  /** @default the handler's overlap */
  overlap?: 'skip';
  /** @default the handler's misfire policy */
  misfire?: ScheduleMisfire;
}

/**
 * What `.toSpec()` returns and what stores keep for a builder schedule.
 * @publicApi
 */
export type ScheduleJson = CronScheduleJson | IntervalScheduleJson | OnceScheduleJson;

/** Sunday first, as cron and `Date#getDay` count. @internal */
export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
