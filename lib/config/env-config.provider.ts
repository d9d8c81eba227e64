import type { DynamicModule } from '@nestjs/common';
import { createRequire } from 'node:module';
import { MissingPackageError } from '../scheduler.errors.js';
import type { SchedulerModuleOptions } from '../scheduler.options.js';
import { schedulerConfigFromEnv } from './env-config.js';

/**
 * `registerAs('scheduler', …)` of `@nestjs/config`: a config factory with
 * `KEY` (its injection token) and `asProvider()` (the `forRootAsync` options
 * that inject it). Typed here so that this package's types need no
 * `@nestjs/config`.
 * @publicApi
 */
export interface SchedulerEnvConfig {
  (): SchedulerModuleOptions;
  /** The injection token of the options, `'CONFIGURATION(scheduler)'`. */
  readonly KEY: string;
  /** `{ imports, useFactory, inject }` for `SchedulerModule.forRootAsync(...)`. */
  asProvider(): {
    imports: [DynamicModule];
    useFactory: (options: SchedulerModuleOptions) => SchedulerModuleOptions;
    inject: [string];
  };
}

/** Loads a package synchronously; a parameter so that tests can ask for one that is missing. @internal */
export type PackageRequirer = (specifier: string) => unknown;

const FEATURE = 'schedulerEnvConfig';

/**
 * Builds `schedulerEnvConfig`. `@nestjs/config` is an optional peer, loaded
 * synchronously so that neither this module nor its importers need a
 * top-level await (a CommonJS Nest app `require`s ESM packages, which Node
 * refuses for modules with one). Without the package the result is a
 * stand-in whose every use throws `MissingPackageError` with the install
 * hint, while `schedulerConfigFromEnv` stays usable.
 * @internal
 */
export function createSchedulerEnvConfig(requirer: PackageRequirer = createRequire(import.meta.url)): SchedulerEnvConfig {
  const factory = (): SchedulerModuleOptions => schedulerConfigFromEnv(process.env);
  let registerAs: (token: string, factory: () => SchedulerModuleOptions) => SchedulerEnvConfig;
  try {
    ({ registerAs } = requirer('@nestjs/config') as { registerAs: typeof registerAs });
  } catch (error) {
    if (!isMissing(error)) throw error;
    const missing = (): never => {
      throw new MissingPackageError('@nestjs/config', FEATURE, { cause: error });
    };
    return Object.defineProperties(() => missing(), { KEY: { get: missing }, asProvider: { value: missing } }) as unknown as SchedulerEnvConfig;
  }
  return registerAs('scheduler', factory);
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && error instanceof Error && error.message.includes(`'@nestjs/config'`);
}

/**
 * The scheduler's options from `SCHEDULER_*` variables as a `@nestjs/config`
 * namespace: `ConfigModule.forRoot({ load: [schedulerEnvConfig] })` and
 * `SchedulerModule.forRootAsync(schedulerEnvConfig.asProvider())`. Read when
 * the app starts (after ConfigModule loaded `.env`); a bad variable stops
 * bootstrap with one `SchedulerEnvError` listing them all. Needs
 * `@nestjs/config` (an optional peer): without it, any use throws
 * `MissingPackageError` with the install command.
 * @publicApi
 */
export const schedulerEnvConfig: SchedulerEnvConfig = createSchedulerEnvConfig();
