import type { HealthCheckResult, HealthState, QueueLag } from './health.types.js';

/** The worse of two states (down > degraded > up). @internal */
export function worst(a: HealthState, b: HealthState): HealthState {
  const rank = { up: 0, degraded: 1, down: 2 } as const;
  return rank[a] >= rank[b] ? a : b;
}

/** `loop()`: held up longer than `maxStallMs` is down. @internal */
export function judgeLoop(stalledSince: number | null, now: number, maxStallMs: number): HealthCheckResult {
  const stalledMs = stalledSince === null ? 0 : Math.max(0, now - stalledSince);
  if (stalledMs > maxStallMs) {
    return { status: 'down', message: `the scheduler loop has been held up for ${stalledMs} ms (maxStallMs ${maxStallMs})`, stalledMs, maxStallMs };
  }
  return { status: 'up', stalledMs, maxStallMs };
}

/** `store()`: a ping's outcome. @internal */
export function judgePing(outcome: { error: string } | { ms: number }, slowMs: number): HealthCheckResult {
  if ('error' in outcome) return { status: 'down', message: outcome.error };
  if (outcome.ms > slowMs) return { status: 'degraded', message: `the store answered a ping in ${outcome.ms} ms (slowMs ${slowMs})`, responseMs: outcome.ms };
  return { status: 'up', responseMs: outcome.ms };
}

/** `leader()`: a live lease, or how long none has been seen. @internal */
export function judgeLeader(leader: string | null, leaderlessSince: number | null, now: number, graceMs: number): HealthCheckResult {
  if (leader !== null) return { status: 'up', leader };
  const leaderlessMs = leaderlessSince === null ? 0 : now - leaderlessSince;
  const status = leaderlessMs >= graceMs ? 'down' : 'degraded';
  return { status, message: `no node has held the leader lease for ${leaderlessMs} ms (graceMs ${graceMs})`, leader: null, leaderlessMs, graceMs };
}

/** `lag()`: the worst lag of the queues judged (paused queues are not judged). @internal */
export function judgeLag(lags: readonly QueueLag[], warnMs: number, failMs: number, only?: readonly string[]): HealthCheckResult {
  const judged = lags.filter((lag) => !lag.paused && (only === undefined || only.includes(lag.queue)));
  const queues = Object.fromEntries(lags.filter((lag) => only === undefined || only.includes(lag.queue)).map((lag) => [lag.queue, lag.lagMs]));
  const worstLag = judged.reduce<QueueLag | null>((max, lag) => (max === null || lag.lagMs > max.lagMs ? lag : max), null);
  const lagMs = worstLag?.lagMs ?? 0;
  if (worstLag === null || lagMs < warnMs) return { status: 'up', lagMs, queues };
  const status = lagMs >= failMs ? 'down' : 'degraded';
  // The first thing to rule out, told when the registry shows it.
  const unrun = worstLag.runners === 0 ? '; no live node runs this queue' : '';
  return { status, message: `queue ${worstLag.queue}: the oldest due job has waited ${lagMs} ms${unrun}`, lagMs, queues, warnMs, failMs };
}

/** `stuck()`: running jobs past their lease. @internal */
export function judgeStuck(ids: readonly string[], maxCount: number): HealthCheckResult {
  const count = ids.length;
  if (count === 0) return { status: 'up', count };
  const status = count > maxCount ? 'down' : 'degraded';
  return { status, message: `${count} running job(s) past their lease, awaiting rescue`, count, maxCount, jobs: ids.slice(0, 10) };
}

/** `deadLetters()`: deaths within the window. @internal */
export function judgeDeaths(deaths: readonly number[], now: number, windowMs: number, max: number): HealthCheckResult {
  const count = deaths.filter((at) => at > now - windowMs).length;
  if (count === 0) return { status: 'up', count, windowMs };
  const status = count > max ? 'down' : 'degraded';
  const shown = count > max ? `more than ${max}` : String(count);
  return { status, message: `${shown} job(s) died in the last ${windowMs} ms`, count, windowMs, max };
}

/** A condition of a preset (`started`, `draining`, …): up when it holds. @internal */
export function judgeFlag(holds: boolean, message: string): HealthCheckResult {
  return holds ? { status: 'up' } : { status: 'down', message };
}
