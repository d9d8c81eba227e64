import type { BackoffFunction, BackoffOption, BackoffPolicy } from '../decorators/job-options.js';
import { parseDuration } from '../common/duration.js';
import { resolveBackoff } from '../discovery/backoff.resolver.js';
import { DiscardJobError, RetryJobError } from '../scheduler.errors.js';
import type { ErrorClass } from '../store/job.types.js';
import { errorTripsCircuit, isErrorClass } from './classified.error.js';
import { ERROR_CLASS_POLICIES } from './error-class.policies.js';
import type { ClassificationSource, ErrorClassification, ErrorClassifyFunction, JobRetrySettings, NextAction } from './error-classifier.types.js';
import { builtInVerdict } from './error.rules.js';
import { ownRetryAfter } from './retry-after.js';

/**
 * What the classifier is built from: the `errors.classify` option, the
 * module's `defaults`, the clock (an HTTP-date Retry-After counts from it)
 * and where to report a `classify` that throws or answers nonsense.
 * @internal
 */
export interface ErrorClassifierConfig {
  classify?: ErrorClassifyFunction;
  defaults: { maxRetries: number; backoffOption: BackoffOption; backoff: BackoffFunction };
  now(): number;
  warn?(message: string): void;
}

/** A classification and the backoff that goes with it. */
interface Decided extends ErrorClassification {
  delay: BackoffFunction | null;
}

const NEVER: BackoffFunction = () => 0;
const CLASS_BACKOFF = Object.fromEntries(
  Object.entries(ERROR_CLASS_POLICIES).map(([name, policy]) => [
    name,
    policy.backoff === null
      ? NEVER
      : resolveBackoff(policy.backoff, (option, detail) => {
          throw new Error(`${option}: ${detail}`);
        }),
  ]),
) as Record<ErrorClass, BackoffFunction>;

/**
 * Decides how a failed attempt is treated. The class comes from the error's
 * own verdict, then `errors.classify`, then the built-in rules, else
 * `retryable` (unrecognised). The settings: `terminal` never retries; then
 * the job's explicit `maxRetries` / backoff; then the class's defaults when
 * the error was recognised; then the module's `defaults`. A delay the error
 * gives (`retryAfter`, Retry-After, `RetryJobError`'s delay) wins over any
 * backoff. Pure but for the clock and the backoff's jitter.
 * @internal
 */
export class ErrorClassifier {
  constructor(private readonly config: ErrorClassifierConfig) {}

  /** The class and retry settings of `error`, for a job with `job`'s own settings. */
  classify(error: unknown, job: JobRetrySettings = {}): ErrorClassification {
    const { delay: _delay, ...classification } = this.decide(error, job);
    return classification;
  }

  /** Retry (after how long) or not, once attempt number `attempt` (1-based) failed with `error`. */
  nextAction(error: unknown, attempt: number, job: JobRetrySettings = {}): NextAction {
    return this.settle(error, attempt, job).next;
  }

  /** The class of a failed attempt and what comes next, from one classification (`errors.classify` is asked once). */
  settle(error: unknown, attempt: number, job: JobRetrySettings = {}): { errorClass: ErrorClass; next: NextAction } {
    const decided = this.decide(error, job);
    const { errorClass } = decided;
    if (error instanceof DiscardJobError) return { errorClass, next: { action: 'discard' } };
    if (!decided.retryable || attempt > decided.maxRetries) return { errorClass, next: { action: 'dead' } };
    if (error instanceof RetryJobError && error.delay !== undefined) return { errorClass, next: { action: 'retry', delayMs: error.delay } };
    if (decided.retryAfter !== null) return { errorClass, next: { action: 'retry', delayMs: decided.retryAfter } };
    return { errorClass, next: { action: 'retry', delayMs: safeDelay(() => decided.delay!(attempt, error)) } };
  }

  private decide(error: unknown, job: JobRetrySettings): Decided {
    const now = this.config.now();
    const { errorClass, source, ruleRetryAfter } = this.verdict(error, now);
    const own = typeof error === 'object' && error !== null ? ownRetryAfter(error, now) : null;
    const retryAfter = errorClass === 'terminal' ? null : (own ?? ruleRetryAfter);
    const tripsCircuit = errorTripsCircuit(error) ?? null;
    if (errorClass === 'terminal') {
      return { errorClass, retryable: false, maxRetries: 0, backoff: null, delay: null, retryAfter, tripsCircuit, source };
    }
    const recognised = source !== 'unrecognised';
    const policy = ERROR_CLASS_POLICIES[errorClass];
    const maxRetries = job.maxRetries ?? (recognised ? policy.maxRetries : (job.fallbackMaxRetries ?? this.config.defaults.maxRetries));
    let backoff: BackoffPolicy | BackoffFunction;
    let delay: BackoffFunction;
    if (job.backoff) [backoff, delay] = [job.backoff, job.backoff];
    else if (recognised) [backoff, delay] = [{ ...policy.backoff! }, CLASS_BACKOFF[errorClass]];
    else [backoff, delay] = [display(this.config.defaults.backoffOption), this.config.defaults.backoff];
    return { errorClass, retryable: true, maxRetries, backoff, delay, retryAfter, tripsCircuit, source };
  }

  private verdict(error: unknown, now: number): { errorClass: ErrorClass; source: ClassificationSource; ruleRetryAfter: number | null } {
    if (error instanceof DiscardJobError) return { errorClass: 'terminal', source: 'error', ruleRetryAfter: null };
    // A handler asking for a retry has said what it wants, whatever its cause was.
    if (error instanceof RetryJobError) return { errorClass: 'retryable', source: 'unrecognised', ruleRetryAfter: null };
    const own = typeof error === 'object' && error !== null ? (error as { errorClass?: unknown }).errorClass : undefined;
    if (isErrorClass(own)) return { errorClass: own, source: 'error', ruleRetryAfter: null };
    const custom = this.custom(error);
    if (custom) return { errorClass: custom, source: 'classify', ruleRetryAfter: null };
    const rule = builtInVerdict(error, now);
    if (rule) return { errorClass: rule.errorClass, source: 'rule', ruleRetryAfter: rule.retryAfter };
    return { errorClass: 'retryable', source: 'unrecognised', ruleRetryAfter: null };
  }

  /** The `errors.classify` option's answer; one that throws or is not a class is reported and left to the built-in rules. */
  private custom(error: unknown): ErrorClass | undefined {
    const classify = this.config.classify;
    if (!classify) return undefined;
    let answer: unknown;
    try {
      answer = classify(error);
    } catch (thrown) {
      this.config.warn?.(`errors.classify threw (${thrown instanceof Error ? thrown.message : String(thrown)}); the built-in rules decide`);
      return undefined;
    }
    if (answer === undefined || answer === null) return undefined;
    if (isErrorClass(answer)) return answer;
    this.config.warn?.(`errors.classify returned ${JSON.stringify(answer)}, not an error class; the built-in rules decide`);
    return undefined;
  }
}

/** A backoff option as `classify` shows it: durations in ms. */
function display(option: BackoffOption): BackoffPolicy | BackoffFunction {
  if (typeof option === 'function') return option;
  if (typeof option === 'object' && option !== null && 'type' in option) {
    const policy: BackoffPolicy = { ...option, delay: parseDuration(option.delay) };
    if (option.max !== undefined) policy.max = parseDuration(option.max);
    return policy;
  }
  return { type: 'fixed', delay: parseDuration(option) };
}

/** A backoff that throws or returns nonsense retries at once rather than losing the job. */
function safeDelay(compute: () => number): number {
  try {
    const value = compute();
    return Number.isFinite(value) && value >= 0 ? value : 0;
  } catch {
    return 0;
  }
}
