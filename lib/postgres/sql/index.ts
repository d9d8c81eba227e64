import type { PostgresContext } from '../postgres.context.js';
import { ackStatements } from './ack.sql.js';
import { breakerStatements } from './breakers.sql.js';
import { nodeStatements } from './nodes.sql.js';
import { claimStatements } from './claim.sql.js';
import { deadLetterStatements } from './dead-letters.sql.js';
import { insertStatements } from './insert.sql.js';
import { lifecycleStatements } from './lifecycle.sql.js';
import { sqlNames } from './names.js';
import { pushStatements } from './push.sql.js';
import { queryStatements } from './query.sql.js';
import { rateLimitStatements } from './rate-limit.sql.js';
import { runStatements } from './runs.sql.js';
import { stateStatements } from './state.sql.js';

/**
 * Every statement of the PostgreSQL store, built once per store from its
 * validated names: one builder per operation, grouped by file.
 * @internal
 */
export function postgresStatements(pg: Pick<PostgresContext, 'schema' | 'prefix' | 'table'>) {
  const names = sqlNames(pg);
  return {
    names,
    insert: insertStatements(names),
    claim: claimStatements(names),
    ack: ackStatements(names),
    lifecycle: lifecycleStatements(names),
    query: queryStatements(names),
    deadLetters: deadLetterStatements(names),
    push: pushStatements(names),
    state: stateStatements(names),
    runs: runStatements(names),
    breakers: breakerStatements(names),
    rateLimits: rateLimitStatements(names),
    nodes: nodeStatements(names),
    /** Unquoted index names, as a unique violation reports them in `constraint`. */
    indexes: {
      serialRunning: `${pg.prefix}serial_running_pkey`,
    },
  };
}

/**
 * The statements of one store.
 * @internal
 */
export type PostgresStatements = ReturnType<typeof postgresStatements>;
