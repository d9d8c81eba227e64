import type { Clock } from '../clock/clock.js';
import { FailureReport } from '../common/failure-report.js';

type FailureLogger = ConstructorParameters<typeof FailureReport>[0];

/** The first pause between tries, doubled after each failure up to {@link MAX_PAUSE_MS}. */
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 5_000;

/**
 * How long a write is tried again: long enough for a database restart or
 * failover, short enough that a write failing for a reason of its own
 * frees its slot. @internal
 */
export const WRITE_PATIENCE_MS = 5 * 60_000;

/**
 * Runs `write` until it succeeds, pausing 100 ms, then twice as long each
 * time (at most 5 s), on the scheduler's clock. Gives up with the last error
 * once `signal` is aborted (the attempt's timeout, a cancel, the shutdown)
 * or after {@link WRITE_PATIENCE_MS}. For a write that records what already
 * happened (a step that succeeded): failing it would run the work again.
 * @internal
 */
export async function untilWritten<T>(
  write: () => Promise<T>,
  o: { clock: Clock; signal: AbortSignal; logger: FailureLogger; what: () => string },
): Promise<T> {
  let failures: FailureReport;
  try {
    return await write();
  } catch (error) {
    // Made on the first failure only: a write that lands at once costs nothing more.
    failures = new FailureReport(o.logger, o.what(), false);
    failures.failed(error);
    if (o.signal.aborted) throw error;
  }
  const since = o.clock.now();
  for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
    await pauseFor(o.clock, pause, o.signal);
    try {
      const written = await write();
      failures.succeeded();
      return written;
    } catch (error) {
      failures.failed(error);
      if (o.signal.aborted || o.clock.now() - since >= WRITE_PATIENCE_MS) throw error;
    }
  }
}

/** Resolves after `ms` on `clock`, or as soon as `signal` aborts. */
function pauseFor(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
