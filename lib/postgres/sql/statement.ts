import { MAX_KEPT_ERRORS } from '../../store/job.types.js';

/**
 * One statement for pg: text with `$n` placeholders and the bound values.
 * `name` makes it a named prepared statement (parsed and planned once per
 * connection) for the hot paths.
 * @internal
 */
export interface Statement {
  name?: string;
  text: string;
  values: unknown[];
  /**
   * It only reads: sent once more when its connection closes before it
   * answers (a pooled connection the server closed for idleness as it was
   * handed out ends the same way as one lost mid-statement; a read can be
   * sent again either way).
   */
  readOnly?: true;
}

/**
 * `errors` with one more error appended, keeping only the last
 * {@link MAX_KEPT_ERRORS} (as the memory store does). `error` is a jsonb expression.
 * @internal
 */
export function appendError(errors: string, error: string): string {
  return `(SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb)
    FROM jsonb_array_elements(${errors} || jsonb_build_array(${error})) WITH ORDINALITY AS x(e, n)
    WHERE n > jsonb_array_length(${errors}) + 1 - ${MAX_KEPT_ERRORS})`;
}

/**
 * How many errors of `kind` a job's kept `errors` hold (a jsonb expression; `kind` is a constant of ours, never user input).
 * @internal
 */
export function countErrors(errors: string, kind: 'shutdown' | 'lease-lost' | 'unstarted'): string {
  return `(SELECT count(*) FROM jsonb_array_elements(${errors}) AS k(e) WHERE k.e->>'kind' = '${kind}')`;
}

/**
 * "Still running", for statements that find their jobs by ids from an
 * array, written so the planner cannot estimate it. Plain `state =
 * 'running'` is estimated from the statistics, which usually saw few running
 * jobs: the planner then expected one row and joined the ids' `unnest` as
 * the inner side of a nested loop, scanning it again for every job (500 ×
 * 500 comparisons, 80 ms for a 500-job completion instead of 5).
 * @internal
 */
export function stillRunning(alias: string): string {
  return `(${alias}.state || '') = 'running'`;
}
