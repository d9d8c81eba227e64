import { unstorableText } from '../common/storable-text.js';
import type { OptionFailure } from '../common/option-failure.js';

/**
 * Longest job, schedule or queue name accepted (it is stored and indexed).
 * @internal
 */
export const MAX_NAME_LENGTH = 200;

/**
 * Job and schedule names: non-empty, at most 200 characters, no control characters or lone surrogates.
 * @internal
 */
export function validateJobName(name: unknown, fail: OptionFailure, option = 'name'): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '') fail(option, 'must be a non-empty string');
  if ((name as string).length > MAX_NAME_LENGTH) fail(option, `must be at most ${MAX_NAME_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name as string)) fail(option, 'must not contain control characters');
  // A lone surrogate would reach PostgreSQL as U+FFFD: two names would become one.
  if (unstorableText(name as string) !== null) fail(option, 'must not contain a lone surrogate');
}
