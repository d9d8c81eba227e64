/**
 * Settings of {@link exponentialBackoff}.
 * @publicApi
 */
export interface ExponentialBackoffOptions {
  /** Delay after the first failure. @default 1000 */
  base?: number;
  /** Growth per attempt. @default 2 */
  factor?: number;
  /** Upper bound of any delay. @default 3_600_000 (1 h) */
  max?: number;
  /** Random spread as a fraction of the delay (0.2 = ±20 %). @default 0.2 */
  jitter?: number;
}

/**
 * The default retry delay: `base · factor^(attempt-1)`, capped at `max`, spread by
 * ±`jitter` so that jobs failing together do not retry together.
 * @publicApi
 */
export function exponentialBackoff(
  attempt: number,
  { base = 1_000, factor = 2, max = 3_600_000, jitter = 0.2 }: ExponentialBackoffOptions = {},
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 40);
  const raw = Math.min(base * factor ** exponent, max);
  const spread = raw * jitter * (random() * 2 - 1);
  return Math.max(0, Math.min(max, Math.round(raw + spread)));
}
