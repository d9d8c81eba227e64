import type { SchedulerModuleOptions } from '../scheduler.options.js';
import { readEnv, type EnvRecord, type SchedulerEnvOptions } from './env-config.js';
import { attachEnvSources, envSourcesOf, hasEnvSources, optionAt, type EnvSource } from './env-sources.js';

const CONNECTION_KEYS = ['dataSource', 'client', 'url', 'path'];

/** Option groups merged key by key; any other option is taken whole from code when code sets it. */
const GROUPS = ['defaults', 'lifeline', 'retention', 'deadLetters', 'metrics'] as const;

function isPlain(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * Module options from code and from the environment, code first: an option
 * set in code wins, one set only by a `SCHEDULER_*` variable comes next, and
 * the module's defaults fill the rest. Groups (`defaults`, `lifeline`,
 * `retention`, `deadLetters`, `metrics`, a `peer` object, and a `store` object of the
 * same `type`) merge key by key; anything else (`queues`, a backoff) is taken
 * whole from code. With a store connection in code (`dataSource`, `client`,
 * `url`, `path`), `SCHEDULER_STORE` needs no URL or path of its own.
 * `describeConfig()` reports which came from where.
 *
 * `env` may also be the options already read from the environment (what
 * `schedulerConfigFromEnv()` returns and `schedulerEnvConfig.asProvider()`
 * injects): `forRootAsync({ ...schedulerEnvConfig.asProvider(), useFactory:
 * (fromEnv) => withEnv(code, fromEnv) })`. They were checked when read, so
 * there a `SCHEDULER_STORE` without its URL or path is refused even when
 * code gives the connection.
 * @param env @default process.env
 * @throws SchedulerEnvError listing every bad variable
 * @publicApi
 */
export function withEnv(
  code: SchedulerModuleOptions,
  env: EnvRecord | SchedulerModuleOptions = process.env,
  options: SchedulerEnvOptions = {},
): SchedulerModuleOptions {
  const codeStore = code.store;
  const connectionFromCode = isPlain(codeStore) && CONNECTION_KEYS.some((key) => codeStore[key] !== undefined);
  const fromEnv = hasEnvSources(env) ? (env as SchedulerModuleOptions) : readEnv(env as EnvRecord, options, { connectionFromCode });
  const merged: Record<string, unknown> = { ...fromEnv };
  for (const [key, value] of Object.entries(code)) {
    if (value === undefined) continue;
    const envValue = merged[key];
    const sameStore = key === 'store' && isPlain(value) && isPlain(envValue) && value['type'] === envValue['type'];
    const group = (GROUPS as readonly string[]).includes(key) || (key === 'peer' && isPlain(value)) || sameStore;
    if (!(group && isPlain(value) && isPlain(envValue))) merged[key] = value;
    // A connection given in code replaces env's (one store cannot take both a url and a dataSource).
    else merged[key] = { ...(sameStore && connectionFromCode ? withoutConnection(envValue) : envValue), ...value };
  }
  // Keep only the env sources whose value survived: what code set is code's.
  const sources: Record<string, EnvSource> = {};
  for (const [path, source] of envSourcesOf(fromEnv).entries()) {
    if (optionAt(code, path) === undefined && optionAt(merged, path) === source.value) sources[path] = source;
  }
  return attachEnvSources(merged as SchedulerModuleOptions, sources);
}

function withoutConnection(store: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...store };
  for (const key of CONNECTION_KEYS) delete rest[key];
  return rest;
}
