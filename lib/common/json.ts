/**
 * A JSON value: what job arguments, results and metadata may hold.
 * @publicApi
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A JSON value that is neither an array nor an object.
 * @publicApi
 */
export type JsonScalar = string | number | boolean | null;

/**
 * A JSON object.
 * @publicApi
 */
export type JsonObject = { [key: string]: JsonValue };

/**
 * `value` as JSON with every object's keys sorted: equal for equal values
 * whatever their key order (PostgreSQL's jsonb, for one, reorders keys).
 * @internal
 */
export function canonicalJson(value: JsonValue): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
