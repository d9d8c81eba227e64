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
