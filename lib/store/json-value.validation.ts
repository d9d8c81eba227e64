import { unstorableJson, unstorableText } from '../common/storable-text.js';
import { InvalidArgumentError, PayloadTooLargeError } from '../scheduler.errors.js';

/**
 * A JSON value checked for the store: its JSON text, ready to store or parse.
 *
 * @throws InvalidArgumentError when `value` is not JSON (a BigInt, a cycle,
 *   a function or `undefined` at the top) or holds U+0000 or a lone surrogate
 *   in a string or an object key; the message names the path, e.g. `args.items[2].name`.
 * @throws PayloadTooLargeError when its JSON text is over `maxBytes` bytes of UTF-8.
 * @internal
 */
export function storableJson(argument: string, value: unknown, maxBytes: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    // A RangeError: nested deeper than the JSON serialiser's stack (thousands of levels).
    const detail = error instanceof RangeError ? 'is nested too deeply to be JSON' : safeDescribe(argument, value);
    throw new InvalidArgumentError(argument, detail ?? `must be JSON: ${(error as Error).message}`);
  }
  if (json === undefined) throw new InvalidArgumentError(argument, 'must be JSON');
  // The length is a lower bound of the bytes (and at least a third of them): count only near the limit.
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json);
    if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, maxBytes, argument);
  }
  const problem = unstorableJson(json);
  if (problem !== null) throw new InvalidArgumentError(argument, safeDescribe(argument, value) ?? `must not contain ${problem}`);
  return json;
}

function safeDescribe(root: string, value: unknown): string | null {
  try {
    return describeProblem(root, value);
  } catch {
    return null;
  }
}

/**
 * Where and what the first unstorable part of `value` is, for the error
 * message: only called once a check has failed, so it may walk the value.
 */
function describeProblem(root: string, value: unknown): string | null {
  const seen = new Set<object>();
  const walk = (item: unknown, path: string): string | null => {
    if (typeof item === 'bigint') return `${path} is a BigInt, which JSON cannot hold (convert it to a string or number)`;
    if (typeof item === 'string') {
      const problem = unstorableText(item);
      return problem && `${path} contains ${problem}, which the store cannot keep`;
    }
    if (item === null || typeof item !== 'object') return null;
    const toJson = (item as { toJSON?: unknown }).toJSON;
    if (typeof toJson === 'function') return walk((toJson as () => unknown).call(item), path);
    if (seen.has(item)) return `${path} refers back to an object that contains it (a cycle), which JSON cannot hold`;
    seen.add(item);
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        const found = walk(item[i], `${path}[${i}]`);
        if (found) return found;
      }
    } else {
      for (const key of Object.keys(item)) {
        const problem = unstorableText(key);
        if (problem) return `${path} has a key that contains ${problem} (${JSON.stringify(key)}), which the store cannot keep`;
        const found = walk((item as Record<string, unknown>)[key], `${path}.${key}`);
        if (found) return found;
      }
    }
    seen.delete(item);
    return null;
  };
  return walk(value, root);
}
