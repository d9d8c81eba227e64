import type { Clock } from '../clock/clock.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import type { JobRateLimits } from '../store/job-store.js';
import type { RateLimitKind } from './rate-limit.options.js';
import type { RateLimitPlan } from './rate-limit.plan.js';
import type { RateLimitStatus } from './token-bucket.js';
import { shown } from '../common/shown.js';

/**
 * What the rate-limit calls use.
 * @internal
 */
export interface RateLimitPorts {
  plan: RateLimitPlan;
  /** The store's buckets; absent when no limit is configured and the store keeps none. */
  store: JobRateLimits | undefined;
  clock: Clock;
}

const KINDS: readonly RateLimitKind[] = ['queues', 'jobs', 'global'];

/**
 * The rate limits' buckets (`scheduler.rateLimits`). See docs/rate-limits.md.
 * @publicApi
 */
export class RateLimits {
  /** @internal */
  constructor(private readonly ports: () => RateLimitPorts) {}

  /**
   * A bucket now: `status('queues', 'billing')`, `status('jobs', 'send-email')`,
   * `status('global')`. On PostgreSQL the cluster's bucket, refilled by the
   * database's clock.
   * @throws InvalidArgumentError for a kind that is not `'queues'`, `'jobs'` or `'global'`, or a bucket no limit configures.
   */
  async status(kind: RateLimitKind, name?: string): Promise<RateLimitStatus> {
    if (!KINDS.includes(kind)) throw new InvalidArgumentError('kind', `must be 'queues', 'jobs' or 'global', got ${shown(kind)}`);
    if (kind !== 'global' && (typeof name !== 'string' || name === '')) throw new InvalidArgumentError('name', `a ${kind} bucket needs a name`);
    const { plan, store, clock } = this.ports();
    const key = kind === 'global' ? '' : name!;
    const spec = plan.spec(kind, key);
    if (!spec || !store)
      throw new InvalidArgumentError('name', kind === 'global' ? 'no global rate limit is configured' : `no rate limit is configured for ${kind} "${key}"`);
    return store.status(kind, key, spec, new Date(clock.now()));
  }
}
