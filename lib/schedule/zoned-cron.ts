import type { CronExpression } from 'cron-parser';

/** Larger than any daylight-saving shift in the tz database (they are 30 min to 2 h). */
const MAX_SHIFT_MS = 3 * 3_600_000;
/** Safety bound; a call takes at most a few steps. */
const MAX_STEPS = 100;

/** How a wall-clock time maps to an instant (see {@link ZonedCron}). */
interface Mapped {
  /** The instant it fires at. */
  readonly at: number;
  /** 'gap': the time does not exist (spring forward); 'repeated': it exists twice (fall back). */
  readonly kind: 'normal' | 'gap' | 'repeated';
  /** UTC offsets (ms) before and after a nearby transition; equal when there is none. */
  readonly pre: number;
  readonly post: number;
}

/**
 * A cron expression evaluated in a time zone.
 *
 * cron-parser is used only in UTC, i.e. over wall-clock time, where it is exact; this class maps
 * matching wall-clock times to instants. Rule (the same for every zone and every expression):
 * - a wall-clock time that exists once fires then;
 * - spring forward: a time inside the gap fires once, read with the offset in force before the
 *   gap, i.e. shifted later by the gap (02:30 America/New_York on 2026-03-08 fires at 03:30 EDT);
 *   if the shifted instant is also a tick of its own (`0 2,3 * * *`) it fires once;
 * - fall back: a time inside the repeated hour fires once, at its first occurrence (01:30 EDT on
 *   2026-11-01, not 01:30 EST), also for expressions whose hour field is `*`: `0,30 * * * *`
 *   fires 01:00 EDT, 01:30 EDT, then 02:00 EST, leaving 90 minutes without a tick.
 *
 * Why not cron-parser's own `tz` option (5.10.5, observed in the tests' DST cases)? In New York its
 * forward iteration matches the rule except that hour-`*` expressions fire in both passes of the
 * repeated hour, but `next()` started inside the repeated hour fires there again
 * (`15,45 0-3 * * *` at 01:15 EST), `next()` started between 03:00 and 03:30 EDT skips the shifted
 * 02:30 tick to the next day, and `prev()` skips shifted ticks and returns second-pass ones. On
 * Lord Howe Island (30-minute shift) it drops gap ticks entirely and `0 * * * *` throws "loop
 * limit exceeded" across the fall-back.
 * @internal
 */
export class ZonedCron {
  private readonly fmt: Intl.DateTimeFormat | null;

  /**
   * @param wall the expression parsed with `tz: 'UTC'`; reused through `reset()` on every call.
   * @param zone a canonical IANA zone name (`UTC` skips all offset work).
   */
  constructor(
    private readonly wall: CronExpression,
    zone: string,
  ) {
    this.fmt = zone === 'UTC' ? null : wallClockFormat(zone);
  }

  /** The first tick strictly after `after`. */
  next(after: number): number {
    if (!this.fmt) return this.wallNext(after);
    let best = Infinity;
    // Just after a spring forward, gap times sort before wall(after) but may fire after `after`.
    const spring = this.shiftBefore(after);
    if (spring && spring.pre < spring.post) {
      const w = this.wallNext(after + spring.pre);
      if (this.map(w).kind === 'gap') best = w - spring.pre;
    }
    let from = after + this.offsetAt(after);
    for (let step = 0; step < MAX_STEPS; step++) {
      const w = this.wallNext(from);
      const m = this.map(w);
      if (m.kind === 'gap') {
        if (m.at > after) best = Math.min(best, m.at); // times after the gap may still fire earlier: look at the first one
        from = this.transition(w - m.post, w - m.pre) + m.post - 1;
      } else if (m.at > after) {
        return Math.min(best, m.at);
      } else {
        // only times repeated by a fall back map before wall(after): skip the rest of them
        from = m.kind === 'repeated' ? this.transition(w - m.pre, w - m.post) + m.pre - 1 : w;
      }
    }
    throw new Error(`cron "${this.wall.toString()}": no tick found after ${new Date(after).toISOString()}`);
  }

  /** The latest tick at or before `atOrBefore`. */
  prev(atOrBefore: number): number {
    if (!this.fmt) return this.wallPrev(atOrBefore);
    let from = atOrBefore + this.offsetAt(atOrBefore);
    // In the second pass of a fall back, the rest of the repeated times already fired (first pass).
    const fall = this.shiftBefore(atOrBefore);
    if (fall && fall.pre > fall.post && this.offsetAt(atOrBefore - (fall.pre - fall.post)) === fall.pre) {
      from = this.transition(atOrBefore - (fall.pre - fall.post), atOrBefore) + fall.pre - 1;
    }
    for (let step = 0; step < MAX_STEPS; step++) {
      const w = this.wallPrev(from);
      const m = this.map(w);
      if (m.at > atOrBefore) {
        from = m.kind === 'gap' ? atOrBefore + m.pre : w - 1; // gap times later than that fire after atOrBefore
        continue;
      }
      // Just after a spring forward, gap times sort before w but may fire after it.
      const spring = m.kind === 'gap' ? null : this.shiftBefore(m.at);
      if (!spring || spring.pre > spring.post) return m.at;
      const transition = this.transition(m.at - MAX_SHIFT_MS, m.at);
      const g = this.wallPrev(Math.min(atOrBefore + spring.pre, transition + spring.post - 1));
      return this.map(g).kind === 'gap' ? Math.max(m.at, g - spring.pre) : m.at;
    }
    throw new Error(`cron "${this.wall.toString()}": no tick found at or before ${new Date(atOrBefore).toISOString()}`);
  }

  /** The first matching wall-clock time after `wall`. */
  private wallNext(wall: number): number {
    this.wall.reset(new Date(wall));
    return this.wall.next().getTime();
  }

  /** The last matching wall-clock time at or before `wall` (cron-parser's prev() excludes its start). */
  private wallPrev(wall: number): number {
    this.wall.reset(new Date(wall + 1));
    return this.wall.prev().getTime();
  }

  /** Maps wall-clock time `w` (as epoch ms of the same UTC fields) to the instant it fires at. */
  private map(w: number): Mapped {
    const guess = w - this.offsetAt(w);
    const pre = this.offsetAt(guess - MAX_SHIFT_MS);
    const post = this.offsetAt(guess + MAX_SHIFT_MS);
    if (pre === post) return { at: w - pre, kind: 'normal', pre, post };
    const okPre = this.offsetAt(w - pre) === pre;
    const okPost = this.offsetAt(w - post) === post;
    if (okPre && okPost) return { at: Math.min(w - pre, w - post), kind: 'repeated', pre, post };
    if (okPost && !okPre) return { at: w - post, kind: 'normal', pre, post };
    return { at: w - pre, kind: okPre ? 'normal' : 'gap', pre, post };
  }

  /** The offsets around a transition in the `MAX_SHIFT_MS` up to instant `t`, or null. */
  private shiftBefore(t: number): { pre: number; post: number } | null {
    const pre = this.offsetAt(t - MAX_SHIFT_MS);
    const post = this.offsetAt(t);
    return pre === post ? null : { pre, post };
  }

  /** Binary search: the first instant in (lo, hi] whose offset differs from the one at `lo`. */
  private transition(lo: number, hi: number): number {
    const atLo = this.offsetAt(lo);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.offsetAt(mid) === atLo) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  /** The zone's UTC offset in ms at instant `t` (wall clock minus UTC, whole seconds). */
  private offsetAt(t: number): number {
    const p: Record<string, number> = {};
    for (const part of this.fmt!.formatToParts(t)) p[part.type] = Number(part.value);
    return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(t / 1000) * 1000;
  }
}

/** One formatter per zone: creating them is far slower than using them. */
const formats = new Map<string, Intl.DateTimeFormat>();

/** A formatter giving the wall-clock fields of an instant in `zone`. */
function wallClockFormat(zone: string): Intl.DateTimeFormat {
  let fmt = formats.get(zone);
  if (!fmt) {
    const numeric = 'numeric' as const;
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: numeric,
      month: numeric,
      day: numeric,
      hour: numeric,
      minute: numeric,
      second: numeric,
    });
    formats.set(zone, fmt);
  }
  return fmt;
}
