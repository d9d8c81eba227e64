import { InvalidArgumentError } from '../scheduler.errors.js';
import { shown } from '../common/shown.js';

/** The default page size of lists. @internal */
export const DEFAULT_PAGE_SIZE = 50;

/**
 * A page size from a `limit` query parameter: a positive integer, capped at `max`.
 * @internal
 */
export function pageSize(limit: string | undefined, max: number): number {
  if (limit === undefined || limit === '') return Math.min(DEFAULT_PAGE_SIZE, max);
  const n = Number(limit);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('limit', `must be a positive integer, got ${shown(limit)}`);
  return Math.min(n, max);
}

/**
 * An offset from a query parameter: a non-negative integer.
 * @internal
 */
export function pageOffset(offset: string | undefined): number {
  if (offset === undefined || offset === '') return 0;
  const n = Number(offset);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('offset', `must be a non-negative integer, got ${shown(offset)}`);
  return n;
}
