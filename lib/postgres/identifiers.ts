import { SchedulerConfigError } from '../scheduler.errors.js';

/** PostgreSQL truncates longer names (NAMEDATALEN - 1), so two of ours could collide. */
const MAX_IDENTIFIER_BYTES = 63;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Every name the scheduler creates after the table prefix: tables, sequences,
 * indexes, the constraints PostgreSQL names after them, and the NOTIFY
 * channel. The prefix is validated against the longest, so no name is ever
 * silently truncated.
 * @internal
 */
export const PREFIXED_NAMES = [
  'jobs',
  'jobs_id_seq',
  'jobs_pkey',
  'jobs_state_check',
  'jobs_runnable_idx',
  'jobs_tick_key_idx',
  'jobs_unique_key_idx',
  'jobs_serial_key_idx',
  'jobs_serial_waiting_idx',
  'jobs_serial_running_idx',
  'jobs_running_idx',
  'jobs_finished_idx',
  'jobs_name_idx',
  'jobs_schedule_idx',
  'fencing_seq',
  'schedules',
  'schedules_pkey',
  'schedule_states',
  'schedule_states_pkey',
  'queue_states',
  'queue_states_pkey',
  'leases',
  'leases_pkey',
  'migrations',
  'migrations_pkey',
  'events',
  // Kept to at most 23 bytes, as long as the longest above, so adding them did
  // not shorten the prefixes allowed (the CHECK is named for that reason).
  'workflow_runs',
  'workflow_runs_id_seq',
  'workflow_runs_pkey',
  'workflow_runs_state_chk',
  'workflow_runs_name_idx',
  'workflow_runs_state_idx',
  'workflow_runs_done_idx',
  'jobs_claim_chk',
  'ready',
  'ready_pkey',
  'ready_serial_idx',
  'claims',
  'claims_pkey',
  'job_keys',
  'job_keys_pkey',
  'serial_running',
  'serial_running_pkey',
  'queue_counts',
  'queue_counts_pkey',
  'dead_letters',
  'dead_letters_pkey',
  'dead_letters_died_idx',
  'dead_letters_alert_idx',
  'offers',
  'offers_pkey',
  'unique_keys',
  'unique_keys_pkey',
  'breakers',
  'breakers_pkey',
  'breakers_state_chk',
  'rate_buckets',
  'rate_buckets_pkey',
  'nodes',
  'nodes_pkey',
] as const;

const LONGEST_SUFFIX_BYTES = Math.max(...PREFIXED_NAMES.map((name) => Buffer.byteLength(name)));

/**
 * The one check of identifiers that come from configuration. A schema is
 * letters, digits and `_`, starting with a letter or `_`, at most 63 bytes,
 * and not `pg_…` (reserved by PostgreSQL). A table prefix follows the same
 * pattern, may be `''` when `allowEmpty`, and must leave room for the longest
 * name built from it. Runs before any SQL; every other runtime string (job
 * names, queues, keys, tags) is a bound parameter and never reaches here.
 *
 * @returns the value, unchanged.
 * @throws SchedulerConfigError naming the option.
 * @internal
 */
export function validateIdentifier(
  option: 'store.schema' | 'store.tablePrefix',
  value: unknown,
  { allowEmpty = false }: { allowEmpty?: boolean } = {},
): string {
  const fail = (detail: string): never => {
    throw new SchedulerConfigError('SchedulerModule', option, detail);
  };
  if (typeof value !== 'string') return fail(`must be a string, got ${typeof value}`);
  if (value === '') {
    if (allowEmpty) return value;
    return fail('must not be empty');
  }
  if (!IDENTIFIER.test(value)) {
    return fail(`${JSON.stringify(value)} must contain only letters, digits and "_", and start with a letter or "_"`);
  }
  const bytes = Buffer.byteLength(value);
  if (option === 'store.schema') {
    if (bytes > MAX_IDENTIFIER_BYTES) fail(`is ${bytes} bytes; PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES}`);
    if (value.startsWith('pg_')) fail('names starting with "pg_" are reserved by PostgreSQL');
  } else if (bytes + LONGEST_SUFFIX_BYTES > MAX_IDENTIFIER_BYTES) {
    fail(`is ${bytes} bytes; with the longest table name it must fit in ${MAX_IDENTIFIER_BYTES} (at most ${MAX_IDENTIFIER_BYTES - LONGEST_SUFFIX_BYTES})`);
  }
  return value;
}

/**
 * The one quoting of identifiers: wraps in double quotes and doubles any
 * inside, so the name is always read as one identifier (and keeps its case).
 * @throws SchedulerConfigError for an empty name or one containing a NUL byte.
 * @internal
 */
export function quoteIdent(name: string): string {
  if (name === '' || name.includes('\u0000')) {
    throw new SchedulerConfigError('SchedulerModule', 'store', `cannot quote identifier ${JSON.stringify(name)}`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}
