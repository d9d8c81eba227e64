import type { LoggerService } from '@nestjs/common';
import { safeErrorText } from '../execution/job-errors.js';

/** How often a failure that goes on is logged again: once a minute. */
const REMIND_EVERY_MS = 60_000;

function stackOf(error: unknown): string {
  try {
    return (error instanceof Error && error.stack) || safeErrorText(error);
  } catch {
    return safeErrorText(error);
  }
}

/**
 * The log of work that is retried on its own (a loop task, a queue's
 * claim) while the store is away: the first failure with its stack, a
 * reminder a minute with how many failed since, and one line when it works
 * again, instead of a line (and a stack) every second of an outage.
 * Time is the wall clock's: it paces log lines, not jobs.
 * @internal
 */
export class FailureReport {
  private since: number | null = null;
  private lastLogged = 0;
  private failures = 0;

  constructor(
    private readonly logger: Pick<LoggerService, 'error' | 'log'>,
    /** What failed, as the log names it (`queue default: claim`). */
    private readonly what: string,
    /** Whether the first line carries the error's stack. @default true */
    private readonly withStack = true,
    private readonly now: () => number = Date.now,
  ) {}

  failed(error: unknown): void {
    const now = this.now();
    this.failures++;
    if (this.since === null) {
      this.since = now;
      this.lastLogged = now;
      this.logger.error(`${this.what} failed: ${this.withStack ? stackOf(error) : safeErrorText(error)}`);
      return;
    }
    if (now - this.lastLogged < REMIND_EVERY_MS) return;
    this.lastLogged = now;
    const seconds = Math.round((now - this.since) / 1000);
    this.logger.error(`${this.what} still failing (${this.failures} failures in ${seconds} s): ${safeErrorText(error)}`);
  }

  succeeded(): void {
    if (this.since === null) return;
    if (this.failures > 1) this.logger.log(`${this.what} works again after ${this.failures} failures`);
    else this.logger.log(`${this.what} works again`);
    this.since = null;
    this.failures = 0;
  }
}
