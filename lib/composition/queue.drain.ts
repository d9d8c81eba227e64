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
 * `ctx.signal` and may run on until the process exits).
 * @internal
 */
export async function drainWithin(runner: QueueRunner, ports: DrainPorts): Promise<void> {
  const { running, logger } = ports;
  // Nothing running: only acknowledgements may still be in flight.
  if (runner.busy === 0) return runner.drain();
  if (await drainedWithin(runner, runner.shutdownGracePeriod, ports.clock)) return;
  const left = running.all(runner.name);
  logger.warn(`queue ${runner.name}: ${left.length} job(s) still running after the grace period; aborting and handing them back`);
  for (const entry of left) entry.abort('shutdown');
  if (await drainedWithin(runner, ABORT_GRACE, ports.clock)) return;
  for (const entry of running.all(runner.name)) {
    if (!entry.abortIgnored) continue;
    logger.warn(
      `${entry.job.name} (${entry.job.id}) ignores ctx.signal: handed back ${ABORT_GRACE / 1000} s after its shutdown abort while its handler still runs`,
    );
    entry.forceSettle();
  }
  await runner.drain();
}

async function drainedWithin(runner: QueueRunner, ms: number, clock: Clock): Promise<boolean> {
  let timer: unknown = null;
  const expired = new Promise<false>((resolve) => (timer = clock.setTimeout(() => resolve(false), ms)));
  const drained = await Promise.race([runner.drain().then(() => true), expired]);
  clock.clearTimeout(timer);
  return drained;
}
