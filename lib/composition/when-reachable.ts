import type { Logger } from '@nestjs/common';

/**
 * Runs a start-up read or write; a store that is not reachable yet (with
 * `waitForDatabase`) is logged, not fatal: the periodic sync and leadership
 * retry what failed once it answers.
 * @internal
 */
export async function whenReachable<T>(logger: Logger, what: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    logger.warn(`${what} failed (${(error as Error)?.message ?? String(error)}); retrying in the background`);
    return undefined;
  }
}
