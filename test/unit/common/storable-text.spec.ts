import { describe, expect, it } from 'vitest';
import { sanitizeJson, sanitizeText, truncateText, unstorableJson, unstorableText } from '../../../lib/common/storable-text.js';

const PAIR = '\u{1F600}'; // 😀: two UTF-16 units
const HIGH = '\uD83D';
const LOW = '\uDE00';

describe('unstorableText and sanitizeText (U+0000 and lone surrogates)', () => {
  it('finds U+0000 and lone surrogates, and leaves pairs and other text alone', () => {
    expect(unstorableText('plain ascii, accents: é, CJK: 漢字')).toBeNull();
    expect(unstorableText(`pair ${PAIR} ok`)).toBeNull();
    expect(unstorableText('a\u0000b')).toBe('U+0000');
    expect(unstorableText(`lone high ${HIGH}x`)).toBe('a lone surrogate');
    expect(unstorableText(`lone high at the end ${HIGH}`)).toBe('a lone surrogate');
    expect(unstorableText(`${LOW} lone low first`)).toBe('a lone surrogate');
    expect(unstorableText(`${LOW}${HIGH}`)).toBe('a lone surrogate'); // reversed halves are two lone ones
  });

  it('replaces each with U+FFFD, one for one, keeping pairs', () => {
    expect(sanitizeText('a\u0000b')).toBe('a\uFFFDb');
    expect(sanitizeText(`${HIGH}${PAIR}${LOW}`)).toBe(`\uFFFD${PAIR}\uFFFD`);
    expect(sanitizeText(`${LOW}${HIGH}`)).toBe('\uFFFD\uFFFD');
    expect(sanitizeText('\u0000\u0000')).toBe('\uFFFD\uFFFD');
    const clean = `nothing to do ${PAIR}`;
    expect(sanitizeText(clean)).toBe(clean);
    expect(unstorableText(sanitizeText(`x${HIGH}\u0000${LOW}y`))).toBeNull();
  });
});

describe('unstorableJson and sanitizeJson (on JSON.stringify output)', () => {
  it('finds escaped U+0000 and lone surrogates in values and keys', () => {
    expect(unstorableJson(JSON.stringify({ a: 'x\u0000' }))).toBe('U+0000');
    expect(unstorableJson(JSON.stringify({ a: [`x${HIGH}`] }))).toBe('a lone surrogate');
    expect(unstorableJson(JSON.stringify({ [`k${LOW}`]: 1 }))).toBe('a lone surrogate');
    expect(unstorableJson(JSON.stringify({ a: `ok ${PAIR}`, b: '\u0001 control is fine' }))).toBeNull();
  });

  it('does not mistake an escaped backslash followed by "u0000" for an escape', () => {
    expect(unstorableJson(JSON.stringify({ a: '\\u0000' }))).toBeNull();
    expect(unstorableJson(JSON.stringify({ a: '\\ud800' }))).toBeNull();
    expect(unstorableJson(JSON.stringify({ a: '\\\u0000' }))).toBe('U+0000'); // a backslash, then a real NUL
    expect(sanitizeJson(JSON.stringify({ a: '\\u0000' }))).toBe(JSON.stringify({ a: '\\u0000' }));
  });

  it('turns them into U+FFFD, in values and keys, leaving valid JSON', () => {
    const json = sanitizeJson(JSON.stringify({ [`k${HIGH}`]: [`a\u0000b`, `${LOW}`, PAIR] }));
    expect(JSON.parse(json)).toEqual({ 'k\uFFFD': ['a\uFFFDb', '\uFFFD', PAIR] });
    expect(unstorableJson(json)).toBeNull();
  });
});

describe('truncateText (on code points)', () => {
  it('keeps text at or under the limit as it is', () => {
    expect(truncateText('abc', 3)).toBe('abc');
    // 3 code points in 6 UTF-16 units: not over a limit of 3.
    expect(truncateText(PAIR.repeat(3), 3)).toBe(PAIR.repeat(3));
  });

  it('cuts after the limit with a note of how many code points were cut', () => {
    expect(truncateText('abcdef', 4)).toBe('abcd… (2 more characters)');
    expect(truncateText(PAIR.repeat(5), 2)).toBe(`${PAIR.repeat(2)}… (3 more characters)`);
  });

  it('never splits a surrogate pair that straddles the limit', () => {
    // Units 0..1998 are 'x', the pair takes units 1999 and 2000: a cut at 2,000 units would split it.
    const text = `${'x'.repeat(1_999)}${PAIR}tail`;
    const cut = truncateText(text, 2_000);
    expect(cut.startsWith(`${'x'.repeat(1_999)}${PAIR}…`)).toBe(true);
    expect(cut).toBe(`${'x'.repeat(1_999)}${PAIR}… (4 more characters)`);
    expect(unstorableText(cut)).toBeNull();
    // One code point fewer: the pair is cut whole, not halved.
    const shorter = truncateText(text, 1_999);
    expect(shorter).toBe(`${'x'.repeat(1_999)}… (5 more characters)`);
    expect(unstorableText(shorter)).toBeNull();
  });
});
