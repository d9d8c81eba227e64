import { shown } from '../common/shown.js';
import { didYouMean } from '../config/did-you-mean.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import type { HealthCheckName, HealthPreset, SchedulerHealthOptions } from './health.types.js';

/** Every check, and the options each takes: `ms` and `count` ones are numbers of 0 or more (counts whole). */
const CHECK_OPTIONS: Record<HealthCheckName, Readonly<Record<string, 'ms' | 'count' | 'queues'>>> = {
  loop: { maxStallMs: 'ms' },
  store: { timeoutMs: 'ms', slowMs: 'ms', cacheMs: 'ms' },
  leader: { graceMs: 'ms' },
  lag: { warnMs: 'ms', failMs: 'ms', queues: 'queues' },
  stuck: { maxCount: 'count' },
  deadLetters: { windowMs: 'ms', max: 'count' },
  started: {},
  draining: {},
  discovery: {},
  migrations: {},
};
const CHECKS = Object.keys(CHECK_OPTIONS) as HealthCheckName[];
const PRESETS: readonly HealthPreset[] = ['liveness', 'readiness', 'startup'];

/** The known name `name` is likely a typo of, as " (did you mean …?)", or nothing. */
function suggestion(name: string, known: readonly string[]): string {
  const best = didYouMean(name, known);
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}

function checkNames(checks: unknown): void {
  if (typeof checks === 'string') {
    if ((PRESETS as readonly string[]).includes(checks)) return;
    const single = (CHECKS as readonly string[]).includes(checks) ? ` (one check goes in a list: ['${checks}'])` : suggestion(checks, PRESETS);
    throw new InvalidArgumentError('checks', `must be a preset (${PRESETS.join(', ')}) or a list of checks, got ${shown(checks)}${single}`);
  }
  if (!Array.isArray(checks)) throw new InvalidArgumentError('checks', `must be a preset (${PRESETS.join(', ')}) or a list of checks, got ${shown(checks)}`);
  if (checks.length === 0) throw new InvalidArgumentError('checks', 'must name at least one check');
  for (const name of checks as unknown[]) {
    if (typeof name === 'string' && (CHECKS as readonly string[]).includes(name)) continue;
    const hint = typeof name === 'string' ? suggestion(name, CHECKS) : '';
    throw new InvalidArgumentError('checks', `${shown(name)} is not a check (${CHECKS.join(', ')})${hint}`);
  }
}

function checkOptions(check: HealthCheckName, given: unknown): void {
  if (given === undefined || given === null) return;
  if (typeof given !== 'object' || Array.isArray(given))
    throw new InvalidArgumentError(check, `must be an object of the ${check} check's options, got ${shown(given)}`);
  const known = CHECK_OPTIONS[check];
  for (const [key, value] of Object.entries(given)) {
    const kind = known[key];
    const option = `${check}.${key}`;
    if (kind === undefined) {
      const list = Object.keys(known);
      const takes = list.length === 0 ? 'takes no options' : `takes ${list.join(', ')}`;
      throw new InvalidArgumentError(option, `is not an option of the ${check} check (it ${takes})${suggestion(key, list)}`);
    }
    if (value === undefined) continue;
    if (kind === 'queues') {
      if (!Array.isArray(value) || !value.every((queue) => typeof queue === 'string' && queue !== '')) {
        throw new InvalidArgumentError(option, `must be a list of queue names, got ${shown(value)}`);
      }
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (kind === 'count' && !Number.isInteger(value))) {
      throw new InvalidArgumentError(option, `must be ${kind === 'count' ? 'an integer' : 'a number of milliseconds'} of 0 or more, got ${shown(value)}`);
    }
  }
}

/**
 * `SchedulerService.health()`'s options, checked: a typo in a preset, a
 * check's name or an option, or a threshold that is not a number, is an
 * InvalidArgumentError naming it (a probe would otherwise fail with a
 * TypeError, or judge against `NaN` and never fail). `null` reads as none.
 * @throws InvalidArgumentError naming the option.
 * @internal
 */
export function checkHealthOptions(given: unknown): SchedulerHealthOptions {
  if (given === undefined || given === null) return {};
  if (typeof given !== 'object' || Array.isArray(given)) throw new InvalidArgumentError('options', `must be an object of health options, got ${shown(given)}`);
  const checked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    // `null` reads as the option not given.
    if (value !== null) checked[key] = value;
    if (key === 'checks') {
      if (value !== undefined) checkNames(value);
    } else if ((CHECKS as readonly string[]).includes(key)) {
      checkOptions(key as HealthCheckName, value);
    } else {
      throw new InvalidArgumentError(key, `is not a health option (checks, ${CHECKS.join(', ')})${suggestion(key, ['checks', ...CHECKS])}`);
    }
  }
  return checked as SchedulerHealthOptions;
}
