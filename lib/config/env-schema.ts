import { readEnv, type EnvRecord } from './env-config.js';
import { SchedulerEnvError } from './env.errors.js';

/**
 * The Standard Schema v1 interface (https://standardschema.dev), written out
 * here as the spec invites, so that no schema library is needed.
 * @publicApi
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output };
  };
}

/** What a Standard Schema's `validate` returns: `{ value }`, or `{ issues }`. @publicApi */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly { readonly message: string; readonly path?: readonly PropertyKey[] }[] };

/**
 * Checks the `SCHEDULER_*` variables of an environment: `ConfigModule.forRoot({
 * validationSchema: schedulerEnvSchema })` stops the app at start with one
 * issue per bad variable (path: the variable; message: its redacted value
 * and why). On success the environment is returned unchanged, because
 * `@nestjs/config` writes the validated values back to `process.env` and
 * variables must stay strings; read the options with `schedulerEnvConfig`.
 * Other variables are not looked at; unknown `SCHEDULER_*` names are warned about.
 * @publicApi
 */
export const schedulerEnvSchema: StandardSchemaV1<EnvRecord, EnvRecord> = {
  '~standard': {
    version: 1,
    vendor: 'nestjs-scheduler',
    validate(value: unknown): StandardSchemaResult<EnvRecord> {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return { issues: [{ message: 'expected an object of environment variables' }] };
      }
      try {
        readEnv(value as EnvRecord, {}, {});
      } catch (error) {
        if (!(error instanceof SchedulerEnvError)) throw error;
        return { issues: error.problems.map((problem) => ({ message: `${JSON.stringify(problem.value)}: ${problem.message}`, path: [problem.variable] })) };
      }
      return { value: value as EnvRecord };
    },
  },
};
