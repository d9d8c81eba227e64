/**
 * A value as an error message shows what it got: its JSON text where it has
 * one (so a string keeps its quotes), otherwise a plain description. Never
 * throws: a BigInt, a symbol, a function or an object with a cycle, passed
 * where an option or argument was wanted, gets a typed error naming it
 * rather than the raw error `JSON.stringify` would throw.
 * @internal
 */
export function shown(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Array.isArray(value) ? 'a list that JSON cannot hold' : 'an object that JSON cannot hold';
  }
}
