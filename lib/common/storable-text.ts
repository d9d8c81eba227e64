/**
 * Text a store can keep. PostgreSQL refuses U+0000 in `text` and `jsonb`, and
 * jsonb refuses a lone surrogate (half of a UTF-16 pair); `pg` silently turns
 * a lone surrogate in a `text` parameter into U+FFFD. Whatever a handler
 * produces is cleaned with these before it is stored, so that its
 * acknowledgement cannot fail; input (arguments, keys, names) is checked
 * with them and refused instead (see `lib/store/job-input.validation.ts`).
 */

/**
 * What replaces U+0000 and lone surrogates in stored output.
 * @internal
 */
export const REPLACEMENT_CHARACTER = '\uFFFD';

/** U+0000, a high surrogate not followed by a low one, or a low one not preceded by a high one. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Cheap pre-test: no NUL and no surrogate at all (almost every string). */
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

/**
 * As JSON.stringify writes them: `\u0000`, and every lone surrogate as a
 * lowercase `\udXXX` escape (ES2019 well-formed stringify; paired surrogates
 * are written raw), each not itself an escaped backslash.
 */
const UNSTORABLE_ESCAPE = /(?<=(?:^|[^\\])(?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;

/**
 * Why a string cannot be stored as it is, or `null`.
 * @internal
 */
export function unstorableText(text: string): 'U+0000' | 'a lone surrogate' | null {
  if (!SUSPECT.test(text)) return null;
  UNSTORABLE.lastIndex = 0;
  const match = UNSTORABLE.exec(text);
  if (match === null) return null;
  return match[0] === '\u0000' ? 'U+0000' : 'a lone surrogate';
}

/**
 * `text` with every U+0000 and lone surrogate replaced by U+FFFD (the same string when there is none).
 * @internal
 */
export function sanitizeText(text: string): string {
  return SUSPECT.test(text) ? text.replace(UNSTORABLE, REPLACEMENT_CHARACTER) : text;
}

/**
 * Why JSON text from `JSON.stringify` cannot be stored as it is (U+0000 or a
 * lone surrogate, in a string or an object key), or `null`.
 * @internal
 */
export function unstorableJson(json: string): 'U+0000' | 'a lone surrogate' | null {
  // Both only ever appear escaped; most JSON holds no `\u` at all.
  if (!json.includes('\\u')) return null;
  UNSTORABLE_ESCAPE.lastIndex = 0;
  const match = UNSTORABLE_ESCAPE.exec(json);
  if (match === null) return null;
  return match[0] === '\\u0000' ? 'U+0000' : 'a lone surrogate';
}

/**
 * JSON text from `JSON.stringify` with every escaped U+0000 and lone surrogate turned into U+FFFD.
 * @internal
 */
export function sanitizeJson(json: string): string {
  return json.includes('\\u') ? json.replace(UNSTORABLE_ESCAPE, '\\ufffd') : json;
}

/**
 * `text` cut to its first `maxCodePoints` code points, with a note of how
 * many were cut. Counting code points (not UTF-16 units) means a cut never
 * falls inside a surrogate pair, which would leave a lone surrogate.
 * @internal
 */
export function truncateText(text: string, maxCodePoints: number): string {
  // A string has at most as many code points as UTF-16 units.
  if (text.length <= maxCodePoints) return text;
  let units = 0;
  let points = 0;
  while (units < text.length && points < maxCodePoints) {
    units += isPairAt(text, units) ? 2 : 1;
    points++;
  }
  if (units >= text.length) return text;
  let rest = 0;
  for (let i = units; i < text.length; i += isPairAt(text, i) ? 2 : 1) rest++;
  return `${text.slice(0, units)}… (${rest} more characters)`;
}

function isPairAt(text: string, i: number): boolean {
  const high = text.charCodeAt(i);
  if (high < 0xd800 || high > 0xdbff) return false;
  const low = text.charCodeAt(i + 1);
  return low >= 0xdc00 && low <= 0xdfff;
}
