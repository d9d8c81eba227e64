import type pg from 'pg';
import { isClosedWhileIdle, isConnectionError, isReadOnlySession, StoreUnavailableError } from './postgres.errors.js';

/**
 * Runs `body` in one transaction on one pooled client. A failure rolls back
 * (nothing is saved) and rejects: a lost connection (at connect or later) as
 * StoreUnavailableError, anything else with its own error. A connection lost
 * during COMMIT leaves unknown whether the write landed.
 * @internal
 */
export async function inTransaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  // A client handed out as the server closed it for sitting idle fails BEGIN: nothing ran, so once more on another.
  const started = await transaction(pool, body).catch((error: unknown) => (isClosedWhileIdle(error) ? null : Promise.reject(error)));
  if (started) return started.result;
  try {
    return (await transaction(pool, body)).result;
  } catch (error) {
    throw isClosedWhileIdle(error) ? unavailable(error) : error;
  }
}

/** One try; rejects with the raw error of a BEGIN the server refused for sitting idle, so the caller can try again. */
async function transaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<{ result: T }> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw unavailable(error);
  }
  let discard = false;
  // The pool listens for errors only on idle clients: a connection that drops
  // while checked out would otherwise emit an unheard `error` and crash the
  // process. The failing query rejects on its own.
  const lost = (): void => void (discard = true);
  client.on('error', lost);
  let begun = false;
  try {
    await client.query('BEGIN');
    begun = true;
    const result = await body(client);
    await client.query('COMMIT');
    return { result };
  } catch (error) {
    if (!begun && isClosedWhileIdle(error)) {
      discard = true;
      throw error;
    }
    // A dropped connection has rolled back on the server already; a client
    // that lost its connection or whose ROLLBACK fails is not reused.
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    // A session refused as read only may stay so after the database is writable again (see isReadOnlySession).
    discard ||= !rolledBack || isConnectionError(error) || isReadOnlySession(error);
    throw unavailable(error);
  } finally {
    client.off('error', lost);
    client.release(discard);
  }
}

function unavailable(error: unknown): unknown {
  return isConnectionError(error) ? new StoreUnavailableError('lost the connection to PostgreSQL', { cause: error }) : error;
}
