import { parseDuration, type Duration } from '../common/duration.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import { shown } from '../common/shown.js';

/**
 * How a Redis store reaches the server (see `RedisStoreOptions`).
 * @publicApi
 */
export interface RedisConnectOptions {
  /** A connection string. Give this or `client`. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /** The app's ioredis client (left open at close). */
  client?: object;
  /** Keys are `{keyPrefix}:…` (no braces). @default 'scheduler' */
  keyPrefix?: string;
  /** The database number, with `url`. @default 0 */
  db?: number;
  /**
   * A connection with a command waiting that has had no byte of answer for
   * this long is taken for dead (a half-open socket: the server or the path
   * to it vanished without a reset) and replaced; its commands are sent again
   * on the new one. Applies to the connections the store opens (`url`, and
   * the pub/sub and lease connections it forks from either); an app's own
   * `client` keeps its settings (give it ioredis's `socketTimeout`). Keep it
   * above the longest command the server may run for other clients, and well
   * under `lifeline.rescueAfter` minus `lifeline.heartbeat` (heartbeats go
   * through the store's connection).
   * @default '15s'
   */
  socketTimeout?: Duration;
  /**
   * Idle time before TCP keepalive probes start on the connections the store
   * opens; the operating system's probe interval and count decide when a
   * silent peer is given up (Linux: 9 probes 75 s apart).
   * @default '10s'
   */
  keepAliveDelay?: Duration;
  /**
   * With `url`: when the server cannot be reached (refused, timed out, not
   * found), resolve anyway and keep reconnecting in the background; until the
   * first connection, calls fail at once with StoreUnavailableError. An error
   * the server answers (a wrong password) still throws. The store option of
   * the same name defaults to `true`.
   * @default false
   */
  waitForDatabase?: boolean;
}

/**
 * {@link RedisConnectOptions}' bounds in ms.
 * @publicApi
 */
export interface RedisTimeouts {
  socketTimeout: number;
  keepAliveDelay: number;
}

/**
 * Reads and checks the bounds; a duration that is not one, or out of range, names its option.
 * @throws InvalidArgumentError naming `socketTimeout` or `keepAliveDelay`.
 * @internal
 */
export function resolveRedisTimeouts(options: RedisConnectOptions): RedisTimeouts {
  const read = (key: keyof RedisTimeouts, fallback: number): number => {
    const value = options[key];
    if (value === undefined) return fallback;
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch (error) {
      throw new InvalidArgumentError(key, (error as Error).message);
    }
    // setTimeout fires at once for anything above 2^31 - 1 ms.
    if (!(ms >= 100 && ms <= 2 ** 31 - 1)) throw new InvalidArgumentError(key, `must be a duration from 100 ms to 24 days, got ${shown(value)}`);
    return Math.ceil(ms);
  };
  return { socketTimeout: read('socketTimeout', 15_000), keepAliveDelay: read('keepAliveDelay', 10_000) };
}
