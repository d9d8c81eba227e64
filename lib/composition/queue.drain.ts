import type { Logger } from '@nestjs/common';
import type { Clock } from '../clock/clock.js';
import type { RunningJobs } from '../execution/running-jobs.js';
import type { QueueRunner } from '../queue/queue.runner.js';

/**
 * How long a job aborted at shutdown may take to return before it is handed back regardless.
 * @internal
 */
export const ABORT_GRACE = 5_000;

/**
 * How long a draining queue waits for the acknowledgements of attempts whose
 * handlers have returned (or were handed back). A store that cannot be
 * reached, or refuses writes, retries them until it is closed: waited for
 * without a bound, `app.close()` would never return while it is down. Past
 * this the node goes on closing; the store's close tries them a last time.
 * @internal
 */
export const ACK_GRACE = 5_000;

/**
 * What draining a queue at shutdown uses.
 * @internal
 */
export interface DrainPorts {
  running: Pick<RunningJobs, 'all'>;
  clock: Clock;
  logger: Logger;
}

/**
 * Lets a queue's running jobs finish within its grace period, then aborts
 * them; an aborted job is handed back when its handler returns, or after
 * {@link ABORT_GRACE} at the latest (named in the log: its handler ignores
 * `ctx.signal` and may run on until the process exits). Acknowledgements
 * still unwritten then are waited for {@link ACK_GRACE} at most.
 * @internal
 */
export async function drainWithin(runner: QueueRunner, ports: DrainPorts): Promise<void> {
  const { running, logger, clock } = ports;
  // Nothing running: only acknowledgements may still be in flight.
  if (runner.busy === 0) return acknowledgedWithin(runner, ports);
  if (await drainedWithin(runner, runner.shutdownGracePeriod, clock)) return;
  // Attempts whose handler returned and whose acknowledgement is still being written are not running.
  const left = running.all(runner.name).filter((entry) => entry.holdsSlot);
  if (left.length > 0) {
    logger.warn(`queue ${runner.name}: ${left.length} job(s) still running after the grace period; aborting and handing them back`);
    for (const entry of left) entry.abort('shutdown');
    if (await drainedWithin(runner, ABORT_GRACE, clock)) return;
  }
  for (const entry of running.all(runner.name)) {
    if (!entry.abortIgnored) continue;
    logger.warn(
      `${entry.job.name} (${entry.job.id}) ignores ctx.signal: handed back ${ABORT_GRACE / 1000} s after its shutdown abort while its handler still runs`,
    );
    entry.forceSettle();
  }
  await acknowledgedWithin(runner, ports);
}

/** Waits {@link ACK_GRACE} at most for the acknowledgements still in flight; names the jobs whose acknowledgement did not land. */
async function acknowledgedWithin(runner: QueueRunner, ports: DrainPorts): Promise<void> {
  if (await drainedWithin(runner, ACK_GRACE, ports.clock)) return;
  const ids = ports.running.all(runner.name).map((entry) => entry.job.id);
  ports.logger.error(
    `queue ${runner.name}: the store has not taken the acknowledgement of ${ids.length} job(s) after ${ACK_GRACE / 1000} s (${ids.join(', ')}); ` +
      'closing without it: they stay running in the store until rescued, and may run again',
  );
}

function drainedWithin(runner: QueueRunner, ms: number, clock: Clock): Promise<boolean> {
  return settledWithin(runner.drain(), ms, clock);
}

/**
 * Whether `work` settled (either way) within `ms` of `clock`; it goes on
 * regardless.
 * @internal
 */
export async function settledWithin(work: Promise<unknown>, ms: number, clock: Clock): Promise<boolean> {
  let timer: unknown = null;
  const expired = new Promise<false>((resolve) => (timer = clock.setTimeout(() => resolve(false), ms)));
  const settled = work.then(
    () => true,
    () => true,
  );
  const done = await Promise.race([settled, expired]);
  clock.clearTimeout(timer);
  return done;
}
