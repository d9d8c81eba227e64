/**
 * The parts of a test runner the store conformance suite uses, so it runs
 * under vitest or jest without importing either: pass
 * `{ describe, it, expect, beforeEach, afterEach }` from your runner.
 * @publicApi
 */
export interface ConformanceTestApi {
  describe(name: string, body: () => void): void;
  it: ConformanceIt;
  beforeEach(hook: () => void | Promise<void>): void;
  afterEach(hook: () => void | Promise<void>): void;
  /** `message` is shown when the assertion fails. */
  expect(actual: unknown, message?: string): ConformanceAssertion;
}

/**
 * `it(name, body)` and `it.each(cases)(name, body)` (`%s`, `%i` in the name print the case).
 * @publicApi
 */
export interface ConformanceIt {
  (name: string, body: () => void | Promise<void>): void;
  each<T>(cases: readonly T[]): (name: string, body: (...args: T extends readonly unknown[] ? T : [T]) => void | Promise<void>) => void;
}

/**
 * The matchers the suite uses, with their vitest and jest meaning.
 * @publicApi
 */
export interface ConformanceMatchers<R> {
  toBe(expected: unknown): R;
  toEqual(expected: unknown): R;
  toMatchObject(expected: object): R;
  toBeInstanceOf(expected: abstract new (...args: never[]) => unknown): R;
  toBeNull(): R;
  toBeUndefined(): R;
  toBeGreaterThan(expected: number | bigint): R;
  toHaveLength(expected: number): R;
  toContain(expected: unknown): R;
  toMatch(expected: string | RegExp): R;
  toHaveProperty(path: string): R;
}

/**
 * `expect(actual)`: matchers, negated with `not`, awaited on a promise with `rejects` / `resolves`.
 * @publicApi
 */
export interface ConformanceAssertion extends ConformanceMatchers<void> {
  not: ConformanceMatchers<void>;
  rejects: ConformanceMatchers<Promise<void>>;
  resolves: ConformanceMatchers<Promise<void>>;
}
