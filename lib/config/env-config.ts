import { Logger } from '@nestjs/common';
import type { SchedulerModuleOptions } from '../scheduler.options.js';
import { SchedulerEnvError, type EnvProblem } from './env.errors.js';
import { attachEnvSources, type EnvSource } from './env-sources.js';
import { ENV_VARIABLES, type EnvVariableSpec } from './env-variables.js';
import { redactValue } from './env-values.js';
import { didYouMean } from './did-you-mean.js';
import { readCombined, readStore, type EnvReadContext } from './env-combined.js';

/**
 * Options of {@link schedulerConfigFromEnv}.
 * @publicApi
 */
export interface SchedulerEnvOptions {
  /** The prefix of every variable. @default 'SCHEDULER_' */
  prefix?: string;
  /** Receives the warning about each unknown `SCHEDULER_*` name. @default Nest's `Logger` (context `SchedulerConfig`) */
  warn?: (message: string) => void;
}

/** The environment as Node gives it (`process.env`) or as a plain record. @publicApi */
export type EnvRecord = Readonly<Record<string, string | undefined>>;

const logger = new Logger('SchedulerConfig');
const warned = new Set<string>();
const defaultWarn = (message: string): void => {
  // ConfigModule's validation and the registerAs factory both read the env: say it once.
  if (warned.has(message)) return;
  warned.add(message);
  logger.warn(message);
};

/**
 * Reads `SCHEDULER_*` variables into module options. Unset (or empty)
 * variables are left out, so the module's defaults (or your code's values,
 * with {@link withEnv}) apply. Every bad variable is collected and thrown at
 * once as a {@link SchedulerEnvError}; unknown `SCHEDULER_*` names are
 * warned about with a "did you mean". Secrets never appear in messages.
 * @param env @default process.env
 * @throws SchedulerEnvError
 * @publicApi
 */
export function schedulerConfigFromEnv(env: EnvRecord = process.env, options: SchedulerEnvOptions = {}): SchedulerModuleOptions {
  return readEnv(env, options, {});
}

/** {@link schedulerConfigFromEnv} with the context of `withEnv`. @internal */
export function readEnv(env: EnvRecord, { prefix = 'SCHEDULER_', warn = defaultWarn }: SchedulerEnvOptions, context: EnvReadContext): SchedulerModuleOptions {
  const problems: EnvProblem[] = [];
  const values = new Map<string, unknown>();
  const raws = new Map<string, string>();
  const fail = (spec: EnvVariableSpec, message: string): void => {
    problems.push({ variable: prefix + spec.name, value: redactValue(prefix + spec.name, raws.get(spec.name) ?? ''), message });
  };
  for (const spec of ENV_VARIABLES) {
    const raw = env[prefix + spec.name]?.trim();
    if (!raw) continue;
    raws.set(spec.name, raw);
    if (spec.refused) {
      fail(spec, spec.refused);
      continue;
    }
    try {
      values.set(spec.name, spec.parse(raw));
    } catch (error) {
      fail(spec, (error as Error).message);
    }
  }
  warnUnknown(env, prefix, warn);

  const byName = (name: string): EnvVariableSpec => ENV_VARIABLES.find((spec) => spec.name === name)!;
  const options: Record<string, unknown> = {};
  const sources: Record<string, EnvSource> = {};
  const set = (path: string, value: unknown, ...names: string[]): void => {
    const keys = path.split('.');
    let target = options;
    for (const key of keys.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[keys.at(-1)!] = value;
    sources[path] = { variable: names.map((name) => prefix + name).join(', '), value };
  };

  const type = (values.get('STORE') as string | undefined) ?? (raws.has('STORE') ? undefined : 'memory');
  for (const spec of ENV_VARIABLES) {
    if (!values.has(spec.name) || !spec.path) continue;
    if (spec.store && type !== undefined && type !== spec.store) {
      fail(spec, `applies to SCHEDULER_STORE=${spec.store}, but the store is ${raws.has('STORE') ? raws.get('STORE') : 'memory (SCHEDULER_STORE is unset)'}`);
      continue;
    }
    if (spec.path.startsWith('store.') || spec.name === 'LOCK_TTL') continue;
    set(spec.path, values.get(spec.name), spec.name);
  }
  readStore(type, values, raws, context, { set, fail: (name, message) => fail(byName(name), message) });
  readCombined(type, values, raws, { set, fail: (name, message) => fail(byName(name), message) });

  if (problems.length) throw new SchedulerEnvError(problems);
  return attachEnvSources(options as SchedulerModuleOptions, sources);
}

function warnUnknown(env: EnvRecord, prefix: string, warn: (message: string) => void): void {
  const known = ENV_VARIABLES.map((spec) => prefix + spec.name);
  for (const name of Object.keys(env)) {
    if (!name.startsWith(prefix) || known.includes(name)) continue;
    const suggestion = didYouMean(name, known, prefix.length);
    warn(`unknown variable ${name} (not read)${suggestion ? `: did you mean ${suggestion}?` : ''}`);
  }
}
