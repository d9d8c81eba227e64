/** nestjs-scheduler/config: the module's options from `SCHEDULER_*` environment variables. */
export { schedulerConfigFromEnv, type SchedulerEnvOptions, type EnvRecord } from './env-config.js';
export { withEnv } from './env-merge.js';
export { schedulerEnvSchema, type StandardSchemaV1, type StandardSchemaResult } from './env-schema.js';
export { schedulerEnvConfig, type SchedulerEnvConfig } from './env-config.provider.js';
export { SchedulerEnvError, type EnvProblem } from './env.errors.js';
export type { ConfigSource } from './env-sources.js';
export type { ConfigDescription, ConfigEntry } from '../service/config.describe.js';
