/**
 * Parsers of environment variable values. Each returns the typed value or
 * throws {@link EnvValueError} with a sentence that says what is accepted;
 * the caller collects them, so that one error lists every bad variable.
 */

/** A value an environment variable cannot hold; its message says what it may hold. @internal */
export class EnvValueError extends Error {}

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const GO_PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
const DURATION_HINT = 'a Go duration (e.g. 500ms, 30s, 1h30m, 168h) or an integer of milliseconds';

/** A Go-style duration (`1h30m`, `168h`, `500ms`) or an integer of milliseconds, as whole milliseconds. @internal */
export function parseEnvDuration(raw: string, { min = 0 }: { min?: number } = {}): number {
  let ms: number;
  if (/^\d+$/.test(raw)) ms = Number(raw);
  else {
    // Go has no day unit: a '7d' here is a typo for 168h, said so rather than guessed.
    if (/^\d+(\.\d+)?[dw]$/.test(raw)) throw new EnvValueError(`Go durations have no days or weeks: write hours, e.g. 168h for 7 days`);
    ms = 0;
    GO_PART.lastIndex = 0;
    while (GO_PART.lastIndex < raw.length) {
      const at = GO_PART.lastIndex;
      const match = GO_PART.exec(raw);
      if (!match || match.index !== at) throw new EnvValueError(`must be ${DURATION_HINT}`);
      ms += Number(match[1]) * GO_UNITS[match[2]!]!;
    }
    if (raw === '') throw new EnvValueError(`must be ${DURATION_HINT}`);
    // Sums of decimals (1.1s) carry float noise; a microsecond of it is not a real fraction.
    if (Math.abs(ms - Math.round(ms)) > 1e-6) throw new EnvValueError(`must be a whole number of milliseconds, got ${ms} ms`);
    ms = Math.round(ms);
  }
  if (!Number.isSafeInteger(ms)) throw new EnvValueError('is too large');
  if (ms < min) throw new EnvValueError(`must be at least ${min} ms`);
  return ms;
}

/** A duration, or `false` / `0`-free words for "none" (`false`, `no`, `off`). @internal */
export function parseEnvDurationOrFalse(raw: string, options?: { min?: number }): number | false {
  if (['false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  return parseEnvDuration(raw, options);
}

/** `true/false/1/0/yes/no`, any case. @internal */
export function parseEnvBoolean(raw: string): boolean {
  const value = raw.toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new EnvValueError('must be true, false, 1, 0, yes or no');
}

/** A decimal integer within [min, max]. @internal */
export function parseEnvInteger(raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new EnvValueError(`must be an integer from ${min} to ${max}`);
  const value = Number(raw);
  if (value < min || value > max) throw new EnvValueError(`must be an integer from ${min} to ${max}`);
  return value;
}

/** A decimal number within [min, max]. @internal */
export function parseEnvNumber(raw: string, min: number, max: number): number {
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new EnvValueError(`must be a number from ${min} to ${max}, e.g. 2.0`);
  const value = Number(raw);
  if (value < min || value > max) throw new EnvValueError(`must be a number from ${min} to ${max}`);
  return value;
}

/** `default:10,emails:5` → `{ default: 10, emails: 5 }`; `false` or `none` → `false` (a node that runs no jobs). @internal */
export function parseEnvQueues(raw: string): Record<string, number> | false {
  if (['false', 'none'].includes(raw.toLowerCase())) return false;
  const queues: Record<string, number> = {};
  for (const part of raw.split(',')) {
    const [name, concurrency, extra] = part.split(':').map((piece) => piece.trim());
    if (!name || concurrency === undefined || extra !== undefined) {
      throw new EnvValueError(`must be name:concurrency pairs separated by commas (e.g. default:10,emails:5), or false; "${part.trim()}" is not one`);
    }
    if (Object.hasOwn(queues, name)) throw new EnvValueError(`names the queue "${name}" twice`);
    try {
      queues[name] = parseEnvInteger(concurrency, 1, 10_000);
    } catch (error) {
      throw new EnvValueError(`queue "${name}": concurrency ${(error as Error).message}`);
    }
  }
  return queues;
}

/** A connection string with a scheme among `schemes`. @internal */
export function parseEnvUrl(raw: string, schemes: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EnvValueError(`must be a URL such as ${schemes[0]}://user:password@host:port/…`);
  }
  if (!schemes.includes(url.protocol.slice(0, -1))) throw new EnvValueError(`must start with ${schemes.map((s) => `${s}://`).join(' or ')}`);
  return raw;
}

const SECRET_NAME = /(password|passwd|secret|token|credential|api_?key|private_?key|(^|[^a-z])key$)/i;

/**
 * A value fit to print: the password of a URL replaced by `***`, and the
 * whole value hidden when its name says secret (or a URL cannot be parsed,
 * as it might still hold one).
 * @internal
 */
export function redactValue(name: string, value: string): string {
  if (SECRET_NAME.test(name)) return '[redacted]';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /_URL$/i.test(name) || /url$/i.test(name)) return redactUrl(value);
  return value;
}

/** A URL with its password (and a token-like username without a password) replaced by `***`. @internal */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    else if (url.username) url.username = '***';
    // Collected first: set() rewrites the entries the iterator walks.
    const keys = new Set(url.searchParams.keys());
    for (const key of keys) if (SECRET_NAME.test(key)) url.searchParams.set(key, '***');
    return url.toString();
  } catch {
    return '[redacted]';
  }
}
