import { parseDuration, type Duration } from '../common/duration.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import type { ErrorClass } from '../store/job.types.js';
import { shown } from '../common/shown.js';

/**
 * The classes an error may be given, in the order the docs list them.
 * @publicApi
 */
export const ERROR_CLASSES: readonly ErrorClass[] = ['retryable', 'transient', 'degraded', 'terminal'];

/**
 * Options of a {@link ClassifiedError}.
 * @publicApi
 */
export interface ClassifiedErrorOptions {
  /** Wait this long before the next attempt (wins over any backoff). @default none: the backoff decides */
  retryAfter?: Duration;
  /** Whether the failure counts against a circuit breaker the job uses. @default none: the breaker decides */
  tripsCircuit?: boolean;
  /** The underlying error. @default none */
  cause?: unknown;
}

/**
 * An error that carries its own verdict: thrown by a handler (or subclassed
 * for an app's errors), its `errorClass` decides how the failure is treated,
 * before the `errors.classify` option and the built-in rules. Any other error
 * may say the same through `errorClass`, `retryAfter` and `tripsCircuit`
 * properties.
 * @publicApi
 */
export class ClassifiedError extends Error {
  /** Milliseconds to wait before the next attempt, or `undefined` for the backoff. */
  readonly retryAfter?: number;
  readonly tripsCircuit?: boolean;

  constructor(
    message: string,
    /** How the failure is treated: see `ErrorClass`. */
    readonly errorClass: ErrorClass,
    options: ClassifiedErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (!ERROR_CLASSES.includes(errorClass)) {
      throw new InvalidArgumentError('errorClass', `must be one of ${ERROR_CLASSES.join(', ')}, got ${shown(errorClass)}`);
    }
    if (options.retryAfter !== undefined) {
      try {
        this.retryAfter = parseDuration(options.retryAfter);
      } catch (error) {
        throw new InvalidArgumentError('retryAfter', (error as Error).message);
      }
    }
    if (options.tripsCircuit !== undefined) this.tripsCircuit = options.tripsCircuit;
  }
}

/**
 * Whether `value` is one of the four error classes.
 * @internal
 */
export function isErrorClass(value: unknown): value is ErrorClass {
  return typeof value === 'string' && (ERROR_CLASSES as readonly string[]).includes(value);
}

/**
 * What an error says of itself about tripping a circuit breaker: its
 * `tripsCircuit` property when it is a boolean, else `undefined` (the
 * breaker decides).
 * @publicApi
 */
export function errorTripsCircuit(error: unknown): boolean | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as { tripsCircuit?: unknown }).tripsCircuit;
  return typeof value === 'boolean' ? value : undefined;
}
