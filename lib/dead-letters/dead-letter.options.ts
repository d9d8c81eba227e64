import type { Type } from '@nestjs/common';
import { parseDuration, type Duration } from '../common/duration.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { DeadLetter } from './dead-letter.entry.js';

/**
 * A provider told of every dead job once in the cluster (`deadLetters.onDeadLetter`).
 * `handle` may be async; when it throws (or rejects) it is called again
 * later, at most {@link DEAD_LETTER_ALERT_TRIES} times in all.
 * @publicApi
 */
export interface DeadLetterHandler {
  handle(entry: DeadLetter<unknown>): void | Promise<void>;
}

/**
 * How many times `onDeadLetter` is called for one death at most: the first
 * call, and retries after a throw (or after its node died mid-call).
 * @publicApi
 */
export const DEAD_LETTER_ALERT_TRIES = 5;

/**
 * Dead letters: how long and how many are kept, and who is told of each.
 * @publicApi
 */
export interface DeadLetterOptions {
  /**
   * The pruner deletes dead letters older than this (by death time); `false`
   * keeps them whatever their age. Replaces `retention.dead` (give one).
   * @default '30d'
   */
  maxAge?: Duration | false;
  /** The pruner deletes the oldest beyond this many; `false`: no limit. @default 10000 */
  maxEntries?: number | false;
  /**
   * A provider class (or any class Nest can build) whose `handle(entry)` runs
   * once per dead job in the cluster, on one of the nodes that have it,
   * soon after the job dies. @default none
   */
  onDeadLetter?: Type<DeadLetterHandler>;
}

/**
 * Dead-letter options resolved: milliseconds, `null` for no limit.
 * @internal
 */
export interface ResolvedDeadLetterOptions {
  maxAge: number | null;
  maxEntries: number | null;
  onDeadLetter: Type<DeadLetterHandler> | null;
}

const SOURCE = 'SchedulerModule';
const DEFAULT_MAX_AGE = 30 * 86_400_000;
const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * Applies defaults and checks; `retentionDead` is the older `retention.dead`,
 * which sets `maxAge` when `deadLetters.maxAge` is not given.
 * @internal
 */
export function resolveDeadLetterOptions(options: DeadLetterOptions | undefined, retentionDead: Duration | undefined): ResolvedDeadLetterOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new SchedulerConfigError(SOURCE, 'deadLetters', 'must be an object');
  }
  if (options?.maxAge !== undefined && retentionDead !== undefined) {
    throw new SchedulerConfigError(SOURCE, 'deadLetters.maxAge', 'is also set by retention.dead (its older name): give only deadLetters.maxAge');
  }
  const age = options?.maxAge ?? retentionDead;
  const entries = options?.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (entries !== false && !(Number.isInteger(entries) && entries >= 1)) {
    throw new SchedulerConfigError(SOURCE, 'deadLetters.maxEntries', `must be a positive integer or false, got ${String(entries)}`);
  }
  const handler = options?.onDeadLetter;
  if (handler !== undefined && typeof handler !== 'function') {
    throw new SchedulerConfigError(SOURCE, 'deadLetters.onDeadLetter', 'must be a class with a handle(entry) method');
  }
  return {
    maxAge: age === false ? null : age === undefined ? DEFAULT_MAX_AGE : maxAge(options?.maxAge === undefined ? 'retention.dead' : 'deadLetters.maxAge', age),
    maxEntries: entries === false ? null : entries,
    onDeadLetter: handler ?? null,
  };
}

function maxAge(option: string, value: Duration): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    throw new SchedulerConfigError(SOURCE, option, (error as Error).message);
  }
  if (ms < 0) throw new SchedulerConfigError(SOURCE, option, 'must not be negative');
  return ms;
}
