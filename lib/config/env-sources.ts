import type { SchedulerModuleOptions } from '../scheduler.options.js';

/**
 * Where an option's value came from: set in code, read from an environment
 * variable, or left to the default.
 * @publicApi
 */
export type ConfigSource = 'code' | 'env' | 'default';

/** An option set from the environment: the variables read, and the value they gave (to notice a later override). @internal */
export interface EnvSource {
  variable: string;
  value: unknown;
}

/**
 * Kept on the options object under a registered symbol, enumerable, so that
 * it survives `{ ...fromEnv, … }` spreads and `forRootAsync` hand-offs, and
 * two copies of the package agree on it. The values live in a private field:
 * logging or serialising the options never shows them (a URL holds a password).
 */
const ENV_SOURCES = Symbol.for('nestjs-scheduler.envSources');

/** Option path → the variables that set it. @internal */
export class EnvSources {
  readonly #entries: ReadonlyMap<string, EnvSource>;

  constructor(entries: Record<string, EnvSource>) {
    this.#entries = new Map(Object.entries(entries));
  }

  get(path: string): EnvSource | undefined {
    return this.#entries.get(path);
  }

  entries(): [string, EnvSource][] {
    return [...this.#entries];
  }

  /** What `console.log(options)` shows: the variables, never their values. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `EnvSources(${[...this.#entries.values()].map((source) => source.variable).join(', ')})`;
  }
}

/** Marks options as read from the environment (option path → source). @internal */
export function attachEnvSources<T extends SchedulerModuleOptions>(options: T, sources: Record<string, EnvSource>): T {
  Object.defineProperty(options, ENV_SOURCES, { value: new EnvSources(sources), enumerable: true, configurable: true, writable: false });
  return options;
}

/** Whether these are options read from the environment (by `schedulerConfigFromEnv` or `schedulerEnvConfig`), not an environment. @internal */
export function hasEnvSources(value: object): boolean {
  return (value as Record<symbol, unknown>)[ENV_SOURCES] instanceof EnvSources;
}

/** The environment sources recorded on options (empty when none). @internal */
export function envSourcesOf(options: SchedulerModuleOptions): EnvSources {
  const sources = (options as Record<symbol, unknown>)[ENV_SOURCES];
  return sources instanceof EnvSources ? sources : new EnvSources({});
}

/** The value at a dotted option path (`store.url`), or `undefined`. @internal */
export function optionAt(options: object, path: string): unknown {
  let value: unknown = options;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * The source of the option at `path`: `env` only while the options still
 * hold the value the environment gave (code that spread the env options and
 * then set its own has the last word), `code` when set, else `default`.
 * @internal
 */
export function sourceOf(options: SchedulerModuleOptions, path: string): { source: ConfigSource; variable?: string } {
  return sourceOfValue(options, path, optionAt(options, path));
}

/** {@link sourceOf} for a value picked by the caller (`undefined`: not set). @internal */
export function sourceOfValue(options: SchedulerModuleOptions, path: string, given: unknown): { source: ConfigSource; variable?: string } {
  const env = envSourcesOf(options).get(path);
  if (env && given !== undefined && sameValue(env.value, given)) return { source: 'env', variable: env.variable };
  return { source: given === undefined ? 'default' : 'code' };
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** Copies the recorded sources of `from` onto `to` (a copy of the same options). @internal */
export function carryEnvSources<T extends object>(from: object, to: T): T {
  const sources = (from as Record<symbol, unknown>)[ENV_SOURCES];
  if (sources instanceof EnvSources) Object.defineProperty(to, ENV_SOURCES, { value: sources, enumerable: true, configurable: true, writable: false });
  return to;
}
