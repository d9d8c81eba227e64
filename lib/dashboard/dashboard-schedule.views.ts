import { cronPhrase } from '../schedule/builder/schedule-json.describe.js';
import type { JobInfo } from '../scheduler.types.js';

/** `GET api/schedules`: one schedule. @publicApi */
export interface DashboardSchedule {
  name: string;
  handler: string;
  /** `code` (a decorator or the builder in code) or `runtime` (inserted through the API, kept in the store). */
  origin: 'code' | 'runtime';
  kind: JobInfo['kind'];
  /** The rule as written: cron text, interval, date, or the builder's spec. */
  spec: Pick<JobInfo, 'cron' | 'every' | 'at' | 'schedule'>;
  /**
   * In plain English: a builder schedule's `describe()`; a cron expression of
   * a common shape in words (`Every day at 06:00 (Etc/UTC)`); else the rule
   * (`cron "0 6 * * *" (Etc/UTC)`).
   */
  description: string;
  zone: string | null;
  queue: string;
  overlap: string;
  paused: boolean;
  /** The next five ticks. */
  nextRuns: string[];
}

/** @internal */
export function scheduleView(info: JobInfo, nextRuns: readonly Date[]): DashboardSchedule {
  const { cron, every, at, schedule } = info;
  const spec: DashboardSchedule['spec'] = {
    ...(cron === undefined ? {} : { cron }),
    ...(every === undefined ? {} : { every }),
    ...(at === undefined ? {} : { at }),
    ...(schedule === undefined ? {} : { schedule }),
  };
  return {
    name: info.name,
    handler: info.handler,
    origin: info.origin === 'runtime' ? 'runtime' : 'code',
    kind: info.kind,
    spec,
    description: words(info),
    zone: info.zone ?? null,
    queue: info.queue,
    overlap: info.overlap,
    paused: info.paused,
    nextRuns: nextRuns.map((date) => date.toISOString()),
  };
}

/** The scheduler's description (`cron "0 6 * * *" (Etc/UTC)`) with a single cron expression of a common shape put in words. */
function words(info: JobInfo): string {
  if (info.kind !== 'cron' || info.schedule !== undefined || typeof info.cron !== 'string') return info.description;
  const quoted = `cron "${info.cron.trim()}"`;
  const phrase = cronPhrase(info.cron);
  return phrase !== null && info.description.startsWith(quoted) ? phrase + info.description.slice(quoted.length) : info.description;
}
