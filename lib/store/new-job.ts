import type { JsonValue } from '../common/json.js';
import type { Job, NewJob } from './job.types.js';

/**
 * A deep copy of a JSON value (primitives are returned as they are).
 * @publicApi
 */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const copy: { [key: string]: JsonValue } = {};
  // for…in over own keys: Object.entries allocated an array per key.
  // oxlint-disable-next-line typescript/no-for-in-array -- arrays returned above; `value` is a plain object here
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = cloneJson((value as { [key: string]: JsonValue })[key]!);
    // A JSON key "__proto__" must stay an own property, not set the prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    else copy[key] = item;
  }
  return copy as T;
}

/**
 * A stored job built from a producer's input, sharing nothing with it.
 * @publicApi
 */
export function buildJob(id: string, input: NewJob, insertedAt: Date): Job {
  const runAt = new Date(input.runAt.getTime());
  return {
    id,
    name: input.name,
    schedule: input.schedule ?? null,
    queue: input.queue,
    args: cloneJson(input.args),
    state: 'available',
    priority: input.priority,
    attempt: 0,
    maxAttempts: input.maxAttempts,
    timeout: input.timeout,
    runAt,
    // One Date when planned and due times agree (see Job: Dates are read-only).
    scheduledAt: input.scheduledAt && input.scheduledAt.getTime() !== runAt.getTime() ? new Date(input.scheduledAt.getTime()) : runAt,
    misfired: input.misfired ?? false,
    insertedAt,
    startedAt: null,
    finishedAt: null,
    heartbeatAt: null,
    node: null,
    fencingToken: 0,
    tickKey: input.tickKey ?? null,
    uniqueKey: input.uniqueKey ?? null,
    serialKey: input.serialKey ?? null,
    pinnedNode: input.pinnedNode ?? null,
    tags: [...(input.tags ?? [])],
    meta: cloneJson(input.meta ?? {}),
    result: null,
    errors: [],
    trace: input.trace ? { ...input.trace } : null,
    progress: null,
    preemptible: input.preemptible ?? null,
  };
}

/**
 * Whether `insert` with `claimFor` may insert this job claimed (see
 * `InsertOptions.claimFor`): no serial key (it must wait for the running
 * one of its key), unpinned, due at `now`. Whether its name is paused is the
 * store's to check; tick and unique keys hold as for any insert.
 * @publicApi
 */
export function claimableAtInsert(job: Pick<NewJob, 'serialKey' | 'pinnedNode' | 'runAt'>, now: Date): boolean {
  return !job.serialKey && !job.pinnedNode && job.runAt.getTime() <= now.getTime();
}
