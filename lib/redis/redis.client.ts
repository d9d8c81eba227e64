import { Logger } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { loadOptionalPackage, type ModuleImporter } from '../common/optional-package.js';
import { StoreUnavailableError } from '../scheduler.errors.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import { within } from '../common/within.js';
import { isRedisConnectionError, refusedByRedis } from './redis.errors.js';
import { resolveRedisTimeouts, type RedisConnectOptions, type RedisTimeouts } from './redis.connect-options.js';
import { SCRIPTS, type ScriptName } from './scripts/index.js';
import { shown } from '../common/shown.js';

export type { RedisConnectOptions, RedisTimeouts } from './redis.connect-options.js';

/**
 * A script argument.
 * @internal
 */
export type ScriptArg = string | number;

/**
 * A Redis store's connection: an ioredis client with the store's scripts
 * defined on it, and the base every key starts with. Open one with
 * {@link openRedis} to build a {@link RedisStore}, {@link RedisPeer} or
 * {@link RedisNotifier} by hand.
 * @publicApi
 */
export interface RedisConnection {
  client: Redis;
  /** `{keyPrefix}:`: the braces are a Redis Cluster hash tag, so every key of the store is in one slot. */
  base: string;
  /** Whether the store opened the client (and so closes it). */
  owned: boolean;
  /**
   * Runs one of the store's scripts with the base as its key.
   * @internal
   */
  run(script: ScriptName, ...args: ScriptArg[]): Promise<unknown>;
  /** The bounds of the connections the store opens, in ms (see {@link RedisConnectOptions}). */
  timeouts: RedisTimeouts;
  /**
   * Whether the connection waits for a server it has never reached (`waitForDatabase`): its calls fail at once meanwhile.
   * @internal
   */
  waiting(): boolean;
  /**
   * A connection of its own to the same server, with the scripts (pub/sub,
   * the leader lease); closed by whoever forked it. `socketTimeout` (ms)
   * replaces the store's bound on it.
   */
  fork(options?: { socketTimeout?: number }): Promise<RedisConnection>;
}

/**
 * The default key prefix.
 * @internal
 */
export const DEFAULT_KEY_PREFIX = 'scheduler';

/**
 * Opens (or adopts) the ioredis client and defines the store's scripts on it.
 * ioredis is loaded here, not at import: an app on another store need not install it.
 * `importer` stands in for `import()` in tests (a package that is not installed).
 * @throws MissingPackageError when ioredis is not installed.
 * @throws StoreUnavailableError when the server cannot be reached (nothing is left reconnecting).
 * @throws InvalidArgumentError for a key prefix with braces (it is the hash tag), a bad `db`, or both `url` and `client`.
 * @publicApi
 */
export async function openRedis(options: RedisConnectOptions, importer?: ModuleImporter): Promise<RedisConnection> {
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== 'string' || keyPrefix.length === 0 || /[{}]/.test(keyPrefix)) {
    throw new InvalidArgumentError(
      'keyPrefix',
      `must be a non-empty string without braces (it becomes the hash tag {${String(keyPrefix)}}), got ${shown(keyPrefix)}`,
    );
  }
  if (options.db !== undefined && (!Number.isInteger(options.db) || options.db < 0)) {
    throw new InvalidArgumentError('db', `must be a non-negative integer, got ${String(options.db)}`);
  }
  const timeouts = resolveRedisTimeouts(options);
  let client: Redis;
  let owned = false;
  if (options.client !== undefined && options.url !== undefined) throw new InvalidArgumentError('url', 'give exactly one of "url" or "client"');
  if (options.client !== undefined) {
    if (!isRedis(options.client)) throw new InvalidArgumentError('client', 'must be an ioredis client (new Redis(...))');
    client = options.client;
    if (options.db !== undefined) throw new InvalidArgumentError('db', 'give the database in the client you pass, not beside it');
  } else {
    const { Redis: Driver } = await loadOptionalPackage<{ Redis: new (url: string, options: RedisOptions) => Redis }>('ioredis', 'the Redis store', importer);
    // A call made while the server is away waits in ioredis's offline queue for
    // up to 20 reconnection attempts (~10 s: they back off 50 ms more each
    // time), so a restart shorter than that costs no acknowledgement.
    const settings: RedisOptions = {
      lazyConnect: true,
      maxRetriesPerRequest: 20,
      socketTimeout: timeouts.socketTimeout,
      keepAlive: timeouts.keepAliveDelay,
      ...(options.db === undefined ? {} : { db: options.db }),
    };
    const url = options.url ?? 'redis://127.0.0.1:6379';
    if (typeof url !== 'string' || url === '')
      throw new InvalidArgumentError('url', `must be a connection string (redis://…, rediss://…, a socket path), got ${shown(url)}`);
    try {
      client = new Driver(url, settings);
    } catch (error) {
      // ioredis parses the URL in its constructor: a bare Error, or a TypeError for a string that is no URL.
      throw new InvalidArgumentError('url', `is not a connection string ioredis can read (${(error as Error)?.message ?? String(error)}), got ${shown(url)}`);
    }
    owned = true;
    watchErrors(client);
    let cause: unknown = null;
    const onError = (error: unknown) => (cause = error);
    client.on('error', onError);
    try {
      await client.connect();
    } catch (error) {
      const reason = (cause ?? error) as Error;
      const message = `Redis at ${redact(url)} is not reachable (${reason?.message ?? String(reason)})`;
      if (!options.waitForDatabase || !isRedisConnectionError(reason)) {
        // ioredis would go on reconnecting in the background: a failed bootstrap must leave nothing running.
        client.disconnect();
        throw new StoreUnavailableError(message, { cause: reason });
      }
      new Logger('Scheduler').warn(`${message}: the store will start once it is`);
      failFastUntilReady(client);
    } finally {
      client.off('error', onError);
    }
  }
  return connection(client, `{${keyPrefix}}:`, owned, timeouts);
}

/**
 * A client that has never reached its server (`waitForDatabase`) goes on
 * reconnecting, and until it first does, a call fails at once instead of
 * waiting in ioredis's offline queue for its retries (~10 s a call, so a
 * start-up would take minutes): the scheduler retries what failed once the
 * server answers. After that, an outage queues calls as usual.
 */
function failFastUntilReady(client: Redis): void {
  client.options.enableOfflineQueue = false;
  client.once('ready', () => (client.options.enableOfflineQueue = true));
}

function connection(client: Redis, base: string, owned: boolean, timeouts: RedisTimeouts): RedisConnection {
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    if (!(name in client)) client.defineCommand(name, { numberOfKeys: 1, lua });
  }
  const commands = client as unknown as Record<ScriptName, (...args: ScriptArg[]) => Promise<unknown>>;
  const waiting = (): boolean => client.status !== 'ready' && !client.options.enableOfflineQueue;
  return {
    client,
    base,
    owned,
    timeouts,
    waiting,
    run: (script, ...args) =>
      commands[script].call(client, base, ...args).catch((error: unknown) => {
        // A typed refusal for a call made before the server was first reached (see failFastUntilReady).
        if (waiting() && isRedisConnectionError(error)) {
          throw new StoreUnavailableError('Redis is not reachable yet', { cause: error });
        }
        // A server that refuses a call for the moment (out of memory, loading, a replica…) wrote nothing: a typed error, not its raw reply.
        throw refusedByRedis(error) ?? error;
      }),
    fork: async (own) => {
      // Ours even when the app gave the client: a fork's socket is bounded and kept alive whatever the app's are.
      const parentWaits = waiting();
      const copy = client.duplicate({
        lazyConnect: true,
        socketTimeout: own?.socketTimeout ?? timeouts.socketTimeout,
        keepAlive: timeouts.keepAliveDelay,
        enableOfflineQueue: true,
      });
      watchErrors(copy);
      try {
        await copy.connect();
      } catch (error) {
        // A server out of reach (its parent waits for it too) or a connection dropped as it opened (a
        // proxy, a loaded host): the fork reconnects in the background and refuses calls until then,
        // so the node starts and its lease or subscription follows, instead of its start failing.
        if (isRedisConnectionError(error)) {
          if (!parentWaits)
            new Logger('Scheduler').warn(`a second Redis connection could not be opened (${(error as Error).message}): retrying in the background`);
          failFastUntilReady(copy);
          return connection(copy, base, true, timeouts);
        }
        copy.disconnect();
        throw new StoreUnavailableError(`a second Redis connection could not be opened (${(error as Error).message})`, { cause: error });
      }
      return connection(copy, base, true, timeouts);
    },
  };
}

/** How long a close waits for ioredis to settle the commands it holds between reconnections. */
const CLOSE_WAIT_MS = 5_000;

/**
 * Closes a connection {@link openRedis} opened (a client the app passed stays open).
 * @publicApi
 */
export async function closeRedis(redis: RedisConnection): Promise<void> {
  if (!redis.owned || redis.client.status === 'end') return;
  const client = redis.client;
  // On a connected socket the goodbye is bounded (QUIT on a silent one would wait for its timeout and a
  // reconnection), and disconnect() settles what it carried. Between reconnections disconnect() would
  // leave the offline queue pending for ever, so there QUIT waits for ioredis's retries to settle it,
  // for a while: a frozen server (SIGSTOP) keeps those retries going without end.
  if (client.status === 'ready') await within(client.quit(), 1_000, 'QUIT').catch(() => client.disconnect());
  else await within(client.quit(), CLOSE_WAIT_MS, 'QUIT').catch(() => client.disconnect());
}

/**
 * Logs a connection of ours that fails, once until it is ready again (ioredis
 * reconnects by itself, and without a listener prints every failed attempt).
 */
function watchErrors(client: Redis): void {
  const logger = new Logger('Scheduler');
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(`a Redis connection failed, reconnecting: ${error.message}`);
  });
  client.on('ready', () => {
    if (down) logger.log('the Redis connection is back');
    down = false;
  });
}

/** A URL without its password, for messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the given URL';
  }
}

function isRedis(value: unknown): value is Redis {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { defineCommand?: unknown }).defineCommand === 'function' &&
    typeof (value as { duplicate?: unknown }).duplicate === 'function'
  );
}
