/**
 * A JSON value: what job arguments, results and metadata may hold.
 * @publicApi
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A JSON object.
 * @publicApi
 */
export type JsonObject = { [key: string]: JsonValue };
