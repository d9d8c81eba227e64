import type { Duration } from '../common/duration.js';
import type { JsonObject, JsonValue } from '../common/json.js';
import type { MisfirePolicy, OverlapPolicy, StorableBackoff, UniqueOption } from '../decorators/job-options.js';
import { overrideJobOptions, resolveJobOptions, type OptionFailure } from '../discovery/job-options.resolver.js';
import { validateJobName } from '../discovery/names.js';
import { uniqueKeyOf } from '../discovery/unique.resolver.js';
import { displayInput } from '../discovery/scheduler.explorer.js';
import type { ScheduleEntry, SchedulerRegistry } from '../scheduler.registry.js';
import { InvalidArgumentError, SchedulerConfigError } from '../scheduler.errors.js';
import { checkTags, DEFAULT_MAX_PAYLOAD_BYTES } from '../store/job-input.validation.js';
import { storableJson } from '../store/json-value.validation.js';
import { builderSchedule, withBuilderPolicies } from './builder/builder-schedule.js';
import type { ScheduleBuilderInput } from './builder/schedule-builder.types.js';
import { compileSchedule, isReboot } from './schedule-spec.js';

/**
 * A schedule created at runtime. `handler` names a registered job (a
 * `@Scheduled` method or a `@Worker`); the store keeps only this JSON, never
 * code. Every job option applies to the jobs the schedule plans, on every
 * node; one not given is the handler's.
 * @publicApi
 */
export interface RuntimeScheduleInput {
  /** Unique among jobs and schedules. */
  name: string;
  /** The registered job that runs each tick. */
  handler: string;
  /** Cron expression(s); one of `cron`, `every`, `at` is required (`@reboot` is not accepted). */
  cron?: string | string[];
  /** IANA time zone of `cron`. @default 'Etc/UTC' */
  zone?: string;
  /** Interval, aligned to the Unix epoch. */
  every?: Duration;
  /** One time, in the future. */
  at?: Date | string;
  /**
   * A fluent builder (`every(2).hours().startAt(d)`) or its `toSpec()` JSON,
   * instead of `cron`/`every`/`at`. Stored as its spec; a fixed interval,
   * a day step or `maxRuns` without a start counts from the insert.
   */
  schedule?: ScheduleBuilderInput;
  /** Arguments of every run. @default {} */
  args?: JsonValue;
  /** @default the handler's queue */
  queue?: string;
  /** 0 (runs first) to 9. @default the handler's priority */
  priority?: number;
  /** `false`: no timeout. @default the handler's timeout */
  timeout?: Duration | false;
  /** @default the handler's maxRetries */
  maxRetries?: number;
  /**
   * Delay before a retry of a job this schedule planned: a duration (fixed)
   * or `{ type: 'fixed' | 'exponential', delay, max?, factor?, jitter? }`.
   * A function cannot be stored and is refused. @default the handler's backoff
   */
  backoff?: StorableBackoff;
  /**
   * `true`: no new run while one is queued or running (sets `overlap:
   * 'skip'`); a key or `{ key?, by?, states?, period? }` (plain data, stored
   * as it is): each run's job is unique by it. @default the handler's
   */
  unique?: UniqueOption;
  /** @default 'skip' with `unique: true`; else the handler's */
  overlap?: OverlapPolicy;
  /** @default the handler's */
  misfire?: MisfirePolicy;
  /** @default the handler's */
  tags?: string[];
  /** @default the handler's */
  meta?: JsonObject;
  /** The circuit breaker guarding this schedule's jobs (configured or registered). @default the handler's */
  circuitBreaker?: string;
}

const KNOWN = new Set([
  'name',
  'handler',
  'cron',
  'zone',
  'every',
  'at',
  'schedule',
  'args',
  'queue',
  'priority',
  'timeout',
  'maxRetries',
  'backoff',
  'unique',
  'overlap',
  'misfire',
  'tags',
  'meta',
  'circuitBreaker',
]);

/**
 * Validates a runtime schedule and builds its entry; `fail` throws the
 * caller's error type. Args, meta and tags are held to what the store keeps
 * (`maxPayloadBytes`, no U+0000 or lone surrogates), so that a schedule is
 * refused when it is inserted rather than failing at every tick.
 * @throws PayloadTooLargeError when its args or meta are over `maxPayloadBytes`.
 * @internal
 */
export function buildRuntimeSchedule(
  input: RuntimeScheduleInput,
  registry: SchedulerRegistry,
  queues: ReadonlySet<string> | null,
  fail: OptionFailure,
  maxPayloadBytes: number = DEFAULT_MAX_PAYLOAD_BYTES,
): ScheduleEntry {
  if (!input || typeof input !== 'object') fail('schedule', 'must be an object');
  for (const key of Object.keys(input)) if (!KNOWN.has(key)) fail(key, 'is not a schedule option');
  validateJobName(input.name, fail);
  validateJobName(input.handler, fail, 'handler');
  const handler = registry.findDefinition(input.handler);
  if (!handler) fail('handler', `no registered job is named "${input.handler}"`);
  const when = { cron: input.cron, zone: input.zone, every: input.every, at: input.at };
  if (isReboot(when)) fail('cron', '@reboot cannot be inserted at runtime');
  const built = builderSchedule(input, fail);
  let spec: ReturnType<typeof compileSchedule> = built?.spec ?? null;
  try {
    if (!built) spec = compileSchedule(when, `schedule "${input.name}"`);
  } catch (error) {
    if (error instanceof SchedulerConfigError) fail(error.option, error.message);
    throw error;
  }
  if (!spec) fail('cron', 'a schedule needs one of cron, every, at or schedule');
  storable(input, fail, maxPayloadBytes);
  if (typeof input.backoff === 'function') {
    fail('backoff', "a function cannot be stored with a schedule; give a duration or { type: 'fixed' | 'exponential', delay, max?, factor?, jitter? }");
  }
  if (built) withBuilderPolicies(input, built, fail);
  const base = handler!.options;
  const options = resolveJobOptions(
    {
      ...overrideJobOptions(base, input),
      backoff: input.backoff,
      unique: input.unique,
      overlap: built?.overlap ?? input.overlap ?? (input.unique === undefined ? base.overlap : undefined),
      misfire: built?.misfire ?? input.misfire ?? handler!.misfireInput,
    },
    fail,
    queues,
    { base },
  );
  if (input.unique === undefined && base.unique && !base.unique.legacy && options.overlap !== 'skip') options.unique = base.unique;
  const entry: ScheduleEntry = {
    name: input.name,
    handler: handler!,
    spec: spec!,
    options,
    origin: 'runtime',
    input: built ? { schedule: built.json } : displayInput(when),
    args: input.args ?? {},
    ...(built?.runOnStart && { runOnStart: true }),
  };
  // A key that cannot be derived from the schedule's args fails now, not at every tick.
  if (options.unique && !options.unique.legacy) uniqueKeyOf(options.unique, { name: handler!.name, queue: options.queue, args: entry.args ?? {} }, fail);
  return entry;
}

/**
 * Serialises a runtime schedule input for the store (dates as ISO strings).
 * @internal
 */
export function toStoredDefinition(input: RuntimeScheduleInput): JsonObject {
  return JSON.parse(JSON.stringify(input)) as JsonObject;
}

/** Args, meta and tags as the store will keep them in each tick's job. */
function storable(input: RuntimeScheduleInput, fail: OptionFailure, maxPayloadBytes: number): void {
  try {
    if (input.args !== undefined) storableJson('args', input.args, maxPayloadBytes);
    if (input.meta !== undefined) storableJson('meta', input.meta, maxPayloadBytes);
    checkTags(input.tags);
  } catch (error) {
    if (error instanceof InvalidArgumentError) fail(error.argument, error.detail);
    throw error;
  }
}
