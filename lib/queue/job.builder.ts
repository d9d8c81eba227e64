import type { Type } from '@nestjs/common';
import { parseDuration } from '../common/duration.js';
import type { JsonValue } from '../common/json.js';
import type { BatchJob } from '../batch/batch.types.js';
import type { JobWorker } from '../decorators/worker.decorator.js';
import { overrideJobOptions, resolveJobOptions, resolvePreemptible } from '../discovery/job-options.resolver.js';
import { resolveUnique, uniqueKeyOf } from '../discovery/unique.resolver.js';
import { InvalidArgumentError, JobNotFoundError, PayloadTooLargeError } from '../scheduler.errors.js';
import type { Clock } from '../clock/clock.js';
import type { SchedulerRegistry } from '../scheduler.registry.js';
import type { EnqueueOptions } from '../scheduler.types.js';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../store/job-input.validation.js';
import type { NewJob } from '../store/job.types.js';
import { captureTraceContext } from '../telemetry/tracing.js';

/**
 * The default limit of a job's JSON payload: 1 MiB. @deprecated the limit is the store's `maxPayloadBytes`; see `DEFAULT_MAX_PAYLOAD_BYTES`.
 * @publicApi
 */
export const MAX_PAYLOAD_BYTES = DEFAULT_MAX_PAYLOAD_BYTES;

/**
 * The arguments type of a worker class (`@Worker` or `@BatchWorker`).
 * @publicApi
 */
export type WorkerArgs<W> = W extends JobWorker<infer A> ? A : W extends BatchJob<unknown, JsonValue, infer A> ? A : never;

/**
 * What building an enqueue call's jobs reads.
 * @internal
 */
export interface JobBuildPorts {
  registry: Pick<SchedulerRegistry, 'findDefinition' | 'workerName'>;
  /** The queues this node knows (`null`: any name). */
  queueNames: ReadonlySet<string> | null;
  clock: Clock;
  /** The store's limit of a job's JSON payload. @default DEFAULT_MAX_PAYLOAD_BYTES */
  maxPayloadBytes?: number;
}

/**
 * Validates an enqueue call and builds its jobs; throws a typed error before
 * anything is stored when any argument is bad.
 * @internal
 */
export function buildJobs(s: JobBuildPorts, target: string | Type<unknown>, argsList: readonly unknown[], options: EnqueueOptions): NewJob[] {
  const name = typeof target === 'function' ? s.registry.workerName(target) : target;
  if (typeof name !== 'string') throw new InvalidArgumentError('name', 'must be a job name or a @Worker class');
  const definition = s.registry.findDefinition(name);
  if (!definition) throw new JobNotFoundError(name);
  if (!options || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  if (options.delay !== undefined && options.runAt !== undefined) throw new InvalidArgumentError('delay', 'cannot be combined with runAt');
  if (options.runAt !== undefined && (!(options.runAt instanceof Date) || Number.isNaN(options.runAt.getTime()))) {
    throw new InvalidArgumentError('runAt', 'must be a valid Date');
  }
  const fail = (option: string, detail: string): never => {
    throw new InvalidArgumentError(option, detail);
  };
  // The handler's `unique` applies to its enqueued jobs unless the call says otherwise.
  const unique = options.unique === undefined ? definition.options.unique : resolveUnique(options.unique, fail);
  let delay = 0;
  try {
    delay = options.delay === undefined ? 0 : parseDuration(options.delay);
  } catch (error) {
    throw new InvalidArgumentError('delay', (error as Error).message);
  }
  const resolved = resolveJobOptions(overrideJobOptions(definition.options, options), fail, s.queueNames, { base: definition.options });
  // Only an explicit choice is stored: an unset one follows the handler's option when the job runs.
  const preemptible = options.preemptible === undefined ? null : resolvePreemptible(options.preemptible, undefined, fail);
  const runAt = new Date(options.runAt ? options.runAt.getTime() : s.clock.now() + delay);
  const trace = captureTraceContext();
  return argsList.map((args, i) => {
    const argument = argsList.length > 1 ? `argsList[${i}]` : 'args';
    const json = jsonArgs(args, argument, unique !== null && unique.by.includes('args'), s.maxPayloadBytes);
    return {
      name,
      queue: resolved.queue,
      args: json.value,
      priority: resolved.priority,
      maxAttempts: resolved.maxAttempts,
      timeout: resolved.timeout,
      runAt,
      scheduledAt: runAt,
      ...(unique && {
        uniqueKey: uniqueKeyOf(unique, { name, queue: resolved.queue, args: json.value }, fail, json.text),
        uniqueStates: unique.states,
        uniquePeriod: unique.period,
      }),
      tags: resolved.tags,
      meta: resolved.meta,
      trace,
      ...(preemptible !== null && { preemptible }),
    };
  });
}

/**
 * Checks that arguments are JSON within the store's size limit (`maxBytes`,
 * its `maxPayloadBytes`); returns them as
 * stored (a copy, so later changes by the caller do not leak in) and, when
 * asked (a unique key hashes them), their JSON text.
 * @internal
 */
export function jsonArgs(
  args: unknown,
  argument: string,
  withText = false,
  maxBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): { value: JsonValue; text: string | undefined } {
  let text: string | undefined;
  try {
    text = JSON.stringify(args);
  } catch (error) {
    throw new InvalidArgumentError(argument, `must be JSON: ${(error as Error).message}`);
  }
  if (text === undefined) throw new InvalidArgumentError(argument, 'must be JSON');
  // Measured: the byte count costs more than the copy for small
  // payloads; the length is a lower bound of the bytes, so count only near the limit.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text);
    if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, maxBytes, 'args');
  }
  return { value: JSON.parse(text) as JsonValue, text: withText ? text : undefined };
}
