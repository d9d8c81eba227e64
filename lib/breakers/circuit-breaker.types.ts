import type { Duration } from '../common/duration.js';

/**
 * Settings of one named circuit breaker (the `circuitBreakers` module option,
 * `scheduler.circuitBreakers.register`). Defaults are seed 003's.
 * @publicApi
 */
export interface CircuitBreakerOptions {
  /** Failed attempts in a row that open the breaker. @default 5 */
  failureThreshold?: number;
  /** Probe runs let through while half-open; all must succeed to close it. @default 2 */
  successThreshold?: number;
  /** How long it stays open before it lets probes through (half-open). @default '30s' */
  resetTimeout?: Duration;
}

/**
 * Where a breaker is: `closed` (jobs run), `open` (jobs wait, ticks are
 * skipped), `halfOpen` (up to `successThreshold` probe runs at once).
 * @publicApi
 */
export type CircuitState = 'closed' | 'open' | 'halfOpen';

/**
 * A breaker as `scheduler.circuitBreakers.get(name)` reports it.
 * @publicApi
 */
export interface CircuitBreakerState {
  name: string;
  state: CircuitState;
  /** Failed attempts in a row (kept while open; 0 once closed again). */
  failures: number;
  /** When it last opened; `null` while closed. */
  openedAt: Date | null;
  /**
   * While open: when it turns half-open (the run time of the jobs it holds).
   * While half-open: when probes still unanswered are given up and others
   * let through. `null` while closed.
   */
  nextProbeAt: Date | null;
}

/**
 * A breaker's settings with defaults applied, `resetTimeout` in ms.
 * @publicApi
 */
export interface BreakerSettings {
  failureThreshold: number;
  successThreshold: number;
  resetTimeout: number;
}

/**
 * A breaker as a store keeps it: settings and state. Times are epoch ms.
 * `successes` counts probes that succeeded in this half-open period,
 * `probes` the probes let through and not yet answered.
 * @publicApi
 */
export interface BreakerRecord extends BreakerSettings {
  name: string;
  state: CircuitState;
  failures: number;
  successes: number;
  probes: number;
  openedAt: number | null;
  nextProbeAt: number | null;
  /**
   * Raised by one at every change the store saves (0 for a breaker never
   * saved): a node that gets two copies of one breaker, answered out of
   * order, keeps the higher.
   */
  version: number;
}

/**
 * Whether a job of a breaker may start: `run` (closed), `probe` (a half-open
 * probe slot was taken for it), `hold` (open, or every probe slot taken: it
 * waits until the record's `nextProbeAt`).
 * @publicApi
 */
export type BreakerVerdict = 'run' | 'probe' | 'hold';

/**
 * How an attempt of a breaker's job ended, for the breaker: `success`,
 * `failure` (counted), or `abandon` (neither: cancelled, handed back, an error
 * that does not trip circuits; a probe slot it held is freed).
 * @publicApi
 */
export type BreakerOutcome = 'success' | 'failure' | 'abandon';

/**
 * A breaker after a change, and the state it was in before.
 * @publicApi
 */
export interface BreakerChange {
  record: BreakerRecord;
  from: CircuitState;
  /** The breaker's `nextProbeAt` before the change: the run time of the jobs it held. */
  heldUntil?: number | null;
}

/**
 * The answer to {@link CircuitBreakerStore.acquire}.
 * @publicApi
 */
export interface BreakerAdmission extends BreakerChange {
  verdict: BreakerVerdict;
}

/**
 * Where breakers are kept: in the process (memory store) or shared by every
 * node (PostgreSQL). Every change is atomic against concurrent callers, and
 * follows the same state machine (lib/breakers/breaker.machine.ts). Calls
 * about an unknown name resolve to `null`.
 * @publicApi
 */
export interface CircuitBreakerStore {
  /** Adds a breaker, closed; one that exists takes the new settings and keeps its state. */
  define(name: string, settings: BreakerSettings, now: Date): Promise<BreakerRecord>;
  /** Every breaker, by name. */
  list(): Promise<BreakerRecord[]>;
  /** Whether a job may start now (see {@link BreakerVerdict}); turns an open breaker half-open once its time came. */
  acquire(name: string, now: Date): Promise<BreakerAdmission | null>;
  /** Records how an attempt ended; `probe`: it ran on a probe slot. */
  record(name: string, outcome: BreakerOutcome, probe: boolean, now: Date): Promise<BreakerChange | null>;
  /** Closes it (failures 0). */
  reset(name: string, now: Date): Promise<BreakerChange | null>;
  /**
   * Makes due at `now` the available jobs named one of `names` whose run
   * time is `until` (the jobs a breaker held until then). Resolves to the
   * queues of the jobs released, each once.
   */
  release(names: readonly string[], until: Date, now: Date): Promise<string[]>;
}
