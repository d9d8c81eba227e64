/**
 * A length of time: milliseconds, a string such as `'250ms' '30s' '5m' '2h' '1d'`
 * (units may be combined: `'1h30m'`), or an object such as `{ minutes: 5 }`.
 * @publicApi
 */
export type Duration =
  | number
  | string
  | {
      days?: number;
      hours?: number;
      minutes?: number;
      seconds?: number;
      milliseconds?: number;
    };

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const OBJECT_MS: Record<string, number> = {
  days: 86_400_000,
  hours: 3_600_000,
  minutes: 60_000,
  seconds: 1_000,
  milliseconds: 1,
};

/**
 * Parses a {@link Duration} into milliseconds.
 * @throws TypeError with a readable message when the value is not a duration.
 * @publicApi
 */
export function parseDuration(value: Duration): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`expected a non-negative number of milliseconds, got ${value}`);
    return value;
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
    const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;
    let total = 0;
    let consumed = 0;
    for (let match = re.exec(text); match; match = re.exec(text)) {
      total += Number(match[1]) * UNIT_MS[match[2]!]!;
      consumed = re.lastIndex;
    }
    if (consumed === 0 || consumed !== text.length) {
      throw new TypeError(`"${value}" is not a duration (use e.g. '250ms', '30s', '5m', '2h', '1d')`);
    }
    return Math.round(total);
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    let total = 0;
    const entries = Object.entries(value);
    if (entries.length === 0) throw new TypeError('an empty object is not a duration');
    for (const [key, amount] of entries) {
      const unit = OBJECT_MS[key];
      if (unit === undefined) throw new TypeError(`unknown duration unit "${key}"`);
      if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
        throw new TypeError(`duration unit "${key}" must be a non-negative number`);
      }
      total += amount * unit;
    }
    return Math.round(total);
  }
  throw new TypeError(`${String(value)} is not a duration`);
}
