import type { Socket } from 'node:net';
import type pg from 'pg';

/**
 * The client's bound on a pool connection: when a statement has had no byte
 * of answer for `ms`, the socket is destroyed (the statement fails as on a
 * dropped connection and the pool replaces it).
 *
 * pg's own `query_timeout` arms a timer and a closure for every statement; on
 * the single enqueue (one statement per call) that was ~0.5 KB more garbage
 * per call and 5-6 times the bytes surviving each young-generation
 * collection, measured against the same run without it. The socket's idle
 * timeout is one timer per connection that Node re-arms on every read and
 * write, without allocating. The server's `statement_timeout` still ends a
 * merely slow statement first (it answers with an error, and the connection
 * is kept); this bound only fires when nothing comes back at all, as on a
 * half-open socket. An idle pooled connection that times out is left alone.
 * @internal
 */
export function watchForAnswers(client: pg.Client, ms: number): void {
  const socket = socketOf(client);
  if (!socket) return;
  socket.setTimeout(ms);
  socket.on('timeout', () => {
    if (awaitingAnswer(client)) socket.destroy();
  });
}

/**
 * Suspends {@link watchForAnswers} on a client whose statements carry their
 * own, longer `query_timeout` (the boot migration waits up to
 * `migrationTimeout` for another node's lock); returns the function that
 * restores it before the client goes back to the pool.
 * @internal
 */
export function suspendWatch(client: pg.Client): () => void {
  const socket = socketOf(client);
  const ms = socket?.timeout;
  if (!socket || !ms) return () => undefined;
  socket.setTimeout(0);
  return () => {
    if (!socket.destroyed) socket.setTimeout(ms);
  };
}

function socketOf(client: pg.Client): Socket | undefined {
  const stream = (client as unknown as { connection?: { stream?: Partial<Socket> } }).connection?.stream;
  return typeof stream?.setTimeout === 'function' && typeof stream.destroy === 'function' ? (stream as Socket) : undefined;
}

/**
 * Whether the client has a statement sent or queued. pg keeps it in
 * `_activeQuery` (`activeQuery` before 8.12, now a deprecated getter that
 * warns; read only when the field is not there).
 */
function awaitingAnswer(client: pg.Client): boolean {
  const c = client as unknown as { _activeQuery?: unknown; activeQuery?: unknown; _queryQueue?: unknown[] };
  const active = '_activeQuery' in c ? c._activeQuery : c.activeQuery;
  return (active !== null && active !== undefined) || (c._queryQueue?.length ?? 0) > 0;
}
