/**
 * Wall-clock arithmetic in an IANA zone, for the builder's windows, days and
 * day steps (cron ticks themselves go through `ZonedCron`).
 */

const DAY_MS = 86_400_000;

/** The wall clock of an instant in a zone. @internal */
export interface WallClock {
  /** Days since 1970-01-01 of the local date. */
  readonly day: number;
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
  /** Milliseconds since local midnight. */
  readonly time: number;
}

/** One formatter per zone: creating them is far slower than using them. */
const formats = new Map<string, Intl.DateTimeFormat>();

function format(zone: string): Intl.DateTimeFormat {
  let fmt = formats.get(zone);
  if (!fmt) {
    const n = 'numeric' as const;
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: n, month: n, day: n, hour: n, minute: n, second: n });
    formats.set(zone, fmt);
  }
  return fmt;
}

/** The wall-clock time of `t` as if it were UTC (local fields read as a UTC timestamp). */
function wallOf(t: number, zone: string): number {
  const p: Record<string, number> = {};
  for (const part of format(zone).formatToParts(t)) p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (((t % 1000) + 1000) % 1000);
}

/** @internal */
export function wallClock(t: number, zone: string): WallClock {
  const wall = wallOf(t, zone);
  const day = Math.floor(wall / DAY_MS);
  return { day, weekday: (((day + 4) % 7) + 7) % 7, time: wall - day * DAY_MS };
}

/**
 * The first instant whose wall clock is at or after local `day` + `time`.
 * A time inside a spring-forward gap maps to the end of the gap, and a
 * repeated time (fall back) to its first occurrence.
 * @internal
 */
export function instantOf(day: number, time: number, zone: string): number {
  const wall = day * DAY_MS + time;
  // Offsets within ±3 h of the guess cover every shift in the tz database.
  let best = Infinity;
  for (const probe of [wall - 14 * 3_600_000, wall, wall + 14 * 3_600_000]) {
    const t = wall - (wallOf(probe, zone) - probe);
    if (wallOf(t, zone) === wall) best = Math.min(best, t);
  }
  if (best !== Infinity) return best;
  // In a gap: the first instant after it (wall clock jumps past `wall`).
  let lo = wall - 14 * 3_600_000;
  let hi = wall + 14 * 3_600_000;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallOf(mid, zone) < wall) lo = mid;
    else hi = mid;
  }
  return hi;
}
