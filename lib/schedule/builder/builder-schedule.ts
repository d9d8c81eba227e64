import type { MisfirePolicy } from '../../decorators/job-options.js';
import type { OptionFailure } from '../../discovery/job-options.resolver.js';
import type { ScheduleSpec } from '../schedule-spec.js';
import { ScheduleBuilderError } from './schedule-builder.errors.js';
import type { AnyScheduleBuilder, ScheduleBuilderInput } from './schedule-builder.types.js';
import { compileScheduleJson } from './schedule-json.compiler.js';
import { describeScheduleJson } from './schedule-json.describe.js';
import type { ScheduleJson } from './schedule-json.js';

/**
 * A builder schedule ready for the planner, with the policies its spec carries.
 * @internal
 */
export interface CompiledBuilderSchedule {
  json: ScheduleJson;
  spec: ScheduleSpec;
  overlap?: 'skip';
  misfire?: MisfirePolicy;
  runOnStart: boolean;
}

/**
 * The spec of a builder (its `toSpec()`) or a copy of given JSON.
 * @internal
 */
export function scheduleJsonOf(value: ScheduleBuilderInput, fail: OptionFailure): ScheduleJson {
  if (value && typeof value === 'object' && typeof (value as AnyScheduleBuilder).toSpec === 'function') return (value as AnyScheduleBuilder).toSpec();
  if (!value || typeof value !== 'object' || !['cron', 'interval', 'once'].includes((value as ScheduleJson).kind)) {
    return fail('schedule', "expected a schedule builder (every(5).minutes()) or its toSpec() JSON ({ kind: 'cron' | 'interval' | 'once', … })");
  }
  return JSON.parse(JSON.stringify(value)) as ScheduleJson;
}

/**
 * Fixes what "registration" means for a runtime schedule: a fixed interval or
 * a day step without a start is anchored at `now`, and `maxRuns` counts from
 * `now`, so the stored spec gives every node the same ticks.
 * @internal
 */
export function resolveAtRegistration(json: ScheduleJson, now: number): ScheduleJson {
  if (json.kind === 'once') return json;
  const iso = new Date(now).toISOString();
  const out = { ...json };
  if (out.kind === 'interval' && out.anchor === null) out.anchor = out.start ?? iso;
  if (out.kind === 'cron' && (out.everyDays ?? 1) > 1 && !out.anchor) out.anchor = out.start ?? iso;
  if (out.maxRuns !== undefined && out.start === undefined) out.start = iso;
  return out;
}

/**
 * Compiles a builder schedule; errors go through `fail` under the option
 * `schedule` with the builder's explanation.
 * @param registeredAt see {@link compileScheduleJson}; `undefined` in decorators.
 * @internal
 */
export function compileBuilderSchedule(value: ScheduleBuilderInput, fail: OptionFailure, registeredAt?: number): CompiledBuilderSchedule {
  const json = scheduleJsonOf(value, fail);
  let spec: ScheduleSpec;
  try {
    spec = compileScheduleJson(json, registeredAt);
  } catch (error) {
    if (error instanceof ScheduleBuilderError) return fail('schedule', error.message);
    throw error;
  }
  return {
    json,
    spec: { ...spec, description: describeScheduleJson(json) },
    ...(json.overlap && { overlap: json.overlap }),
    ...(json.misfire !== undefined && { misfire: json.misfire }),
    runOnStart: json.kind !== 'once' && json.runOnStart === true,
  };
}

/**
 * Merges a spec's policies into job options; a different value given beside
 * the builder is refused rather than one of them silently winning.
 * @internal
 */
export function withBuilderPolicies<T extends { overlap?: string; misfire?: MisfirePolicy }>(
  options: T,
  compiled: CompiledBuilderSchedule,
  fail: OptionFailure,
): T {
  const out = { ...options };
  if (compiled.overlap) {
    if (options.overlap !== undefined && options.overlap !== compiled.overlap) fail('overlap', `conflicts with the builder's .withoutOverlapping()`);
    out.overlap = compiled.overlap;
  }
  if (compiled.misfire !== undefined) {
    if (options.misfire !== undefined && JSON.stringify(options.misfire) !== JSON.stringify(compiled.misfire))
      fail('misfire', `conflicts with the builder's .misfire()`);
    out.misfire = compiled.misfire;
  }
  return out;
}

/**
 * The builder schedule of decorator options, or null; refuses `cron`,
 * `every`, `at` or `zone` beside it.
 * @internal
 */
export function builderSchedule(
  options: { cron?: unknown; every?: unknown; at?: unknown; zone?: unknown; schedule?: ScheduleBuilderInput },
  fail: OptionFailure,
  registeredAt?: number,
): CompiledBuilderSchedule | null {
  if (options.schedule === undefined) return null;
  for (const key of ['cron', 'every', 'at', 'zone'] as const) {
    if (options[key] !== undefined) fail(key, 'cannot be combined with a builder schedule (give the zone with .timezone())');
  }
  return compileBuilderSchedule(options.schedule, fail, registeredAt);
}
