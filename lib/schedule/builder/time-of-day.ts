import { ScheduleBuilderError } from './schedule-builder.errors.js';
import { shown } from '../../common/shown.js';

/**
 * Reads a time of day: `'14:30'`, `'9:05'`, `'14:30:15'`, `'10:30pm'`,
 * `'8am'`, `'12:00 AM'`; returns milliseconds since midnight.
 * @throws ScheduleBuilderError when the text is not a time of day.
 * @internal
 */
export function parseTimeOfDay(text: string, option: string): number {
  const m = typeof text === 'string' ? /^\s*(\d{1,2})(?::(\d\d))?(?::(\d\d))?\s*(am|pm)?\s*$/i.exec(text) : null;
  const fail = () => new ScheduleBuilderError(option, `expected a time of day such as '14:30' or '10:30pm', got ${shown(text)}`);
  if (!m || (m[2] === undefined && m[4] === undefined)) throw fail();
  let hour = Number(m[1]);
  const minute = Number(m[2] ?? 0);
  const second = Number(m[3] ?? 0);
  const meridiem = m[4]?.toLowerCase();
  if (meridiem) {
    if (hour < 1 || hour > 12) throw fail();
    hour = (hour % 12) + (meridiem === 'pm' ? 12 : 0);
  }
  if (hour > 23 || minute > 59 || second > 59) throw fail();
  return ((hour * 60 + minute) * 60 + second) * 1000;
}

/** `'14:30'`, or `'14:30:15'` when there are seconds. @internal */
export function formatTimeOfDay(ms: number): string {
  const total = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  return s ? `${pad(h)}:${pad(m)}:${pad(s)}` : `${pad(h)}:${pad(m)}`;
}
