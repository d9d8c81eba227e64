import type { ClaimRateLimits } from '../store/job-store.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { RateLimitKind, ResolvedRateLimits } from './rate-limit.options.js';
import type { RateLimitSpec } from './token-bucket.js';

/** What the plan reads of a registered handler. */
interface LimitedDefinition {
  name: string;
  source: string;
  options: { rateLimit: RateLimitSpec | null };
}

/**
 * Every rate limit of this node: the module's `rateLimits` and the jobs' own
 * `rateLimit` options, as buckets by kind and name. A job's own option and
 * `rateLimits.jobs[name]` would be two shapes for one bucket, so giving both
 * is refused.
 * @internal
 */
export class RateLimitPlan {
  private readonly jobs: Map<string, RateLimitSpec>;

  constructor(
    private readonly module: ResolvedRateLimits,
    definitions: Iterable<LimitedDefinition>,
  ) {
    this.jobs = new Map(module.jobs);
    for (const definition of definitions) {
      const own = definition.options.rateLimit;
      if (!own) continue;
      if (module.jobs.has(definition.name)) {
        throw new SchedulerConfigError(
          definition.source,
          'rateLimit',
          `job "${definition.name}" also has a limit in the module's rateLimits.jobs; one bucket per job name: set it in one place only`,
        );
      }
      this.jobs.set(definition.name, own);
    }
  }

  /** Whether any bucket exists. */
  get any(): boolean {
    return this.module.global !== null || this.module.queues.size > 0 || this.jobs.size > 0;
  }

  /** Names in `rateLimits.jobs` that no registered handler has (a typo, or jobs only other nodes define). */
  unknownJobs(known: (name: string) => boolean): string[] {
    return [...this.module.jobs.keys()].filter((name) => !known(name));
  }

  /**
   * The buckets a claim of `queue` honours, or `null` when none applies:
   * then the queue claims as if rate limits did not exist. A job's name
   * limit applies on every queue (an enqueue may send it to any).
   */
  forQueue(queue: string): ClaimRateLimits | null {
    const limits: ClaimRateLimits = {
      ...(this.module.global ? { global: this.module.global } : {}),
      ...(this.module.queues.has(queue) ? { queue: this.module.queues.get(queue)! } : {}),
      ...(this.jobs.size > 0 ? { jobs: this.jobs } : {}),
    };
    return Object.keys(limits).length > 0 ? limits : null;
  }

  /** The shape of one bucket, or `undefined` when it is not configured. */
  spec(kind: RateLimitKind, name: string): RateLimitSpec | undefined {
    if (kind === 'global') return this.module.global ?? undefined;
    return kind === 'queues' ? this.module.queues.get(name) : this.jobs.get(name);
  }
}
