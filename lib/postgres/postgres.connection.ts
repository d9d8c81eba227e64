import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { loadOptionalPackage } from '../common/optional-package.js';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { PostgresStoreOptions } from '../store/store-options.js';
import { quoteIdent, validateIdentifier } from './identifiers.js';
import { isClosedWhileIdle } from './postgres.errors.js';
import type { PostgresContext } from './postgres.context.js';
import { boundSettings, CONNECT_TIMEOUT_MS, resolveTimeouts, type ConnectionBounds } from './postgres.timeouts.js';
import { watchForAnswers } from './postgres.watchdog.js';

/**
 * @default values of {@link PostgresStoreOptions} that the connection uses.
 * @internal
 */
export const POSTGRES_DEFAULTS = {
  schema: 'public',
  tablePrefix: 'scheduler_',
  poolSize: 10,
  maxPayloadBytes: 1_048_576,
} as const;

/** The credentials TypeORM keeps for a postgres DataSource (or its replication master). */
interface PostgresCredentials {
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string | (() => string | Promise<string>);
  database?: string;
  ssl?: pg.ClientConfig['ssl'];
  applicationName?: string;
}

/**
 * Checks the PostgreSQL options and prepares what the store, peer and
 * notifier share. Every identifier is validated here, before any SQL runs;
 * nothing connects yet (the database may still be down: `waitForDatabase`).
 *
 * With `url`, the scheduler opens (and later closes) its own pool. With
 * `dataSource`, it borrows the pool of an initialised TypeORM DataSource
 * (postgres driver) and never closes it.
 *
 * @throws SchedulerConfigError naming the option at fault.
 * @publicApi
 */
export async function openPostgres(options: PostgresStoreOptions, node: string): Promise<PostgresContext> {
  const fail = (option: string, detail: string): never => {
    throw new SchedulerConfigError('SchedulerModule', option, detail);
  };
  if (!options || typeof options !== 'object') fail('store', 'must be an object');
  const schema = validateIdentifier('store.schema', options.schema ?? POSTGRES_DEFAULTS.schema);
  const prefix = validateIdentifier('store.tablePrefix', options.tablePrefix ?? POSTGRES_DEFAULTS.tablePrefix, { allowEmpty: true });
  const poolSize = options.poolSize ?? POSTGRES_DEFAULTS.poolSize;
  if (!Number.isInteger(poolSize) || poolSize < 1) fail('store.poolSize', 'must be a positive integer');
  const maxPayload = options.maxPayloadBytes ?? POSTGRES_DEFAULTS.maxPayloadBytes;
  if (!Number.isInteger(maxPayload) || maxPayload < 1) fail('store.maxPayloadBytes', 'must be a positive integer');
  const hasUrl = options.url !== undefined;
  const hasDataSource = options.dataSource !== undefined;
  if (hasUrl === hasDataSource) fail(hasUrl ? 'store.dataSource' : 'store.url', 'give exactly one of "url" or "dataSource"');
  if (hasUrl && (typeof options.url !== 'string' || options.url === '')) fail('store.url', 'must be a connection string');
  if (hasDataSource && (typeof options.dataSource !== 'object' || options.dataSource === null)) fail('store.dataSource', 'must be a TypeORM DataSource');
  const timeouts = resolveTimeouts(options);
  // Loaded here, not at import: an app on the memory store need not install pg.
  const { default: driver } = await loadOptionalPackage<{ default: typeof pg }>('pg', 'the PostgreSQL store');

  const channel = channelName(schema, prefix);
  const base = {
    schema,
    prefix,
    channel,
    node,
    timeouts,
    table: (name: string): string => `${quoteIdent(schema)}.${quoteIdent(prefix + name)}`,
  };
  if (hasUrl) return ownPool(driver, base, options.url as string, poolSize);
  return borrowedPool(driver, base, options.dataSource as object);
}

type ContextBase = Pick<PostgresContext, 'schema' | 'prefix' | 'channel' | 'node' | 'table' | 'timeouts'>;

/** An idle pooled client whose server went away emits `error` on the pool; unheard, that would crash the process. */
const ignoreIdleError = (): void => {};

/**
 * The scheduler's statements are short, but the planner's estimate for a
 * claim grows with the backlog and the history, and once it passes
 * `jit_above_cost` every claim is JIT-compiled first: 0.5 s for a claim that
 * then runs in 1 ms, measured on PostgreSQL 15. Our own connections start
 * with JIT off (an `options` parameter in the URL replaces this one); a
 * borrowed pool keeps its owner's settings.
 */
const WITHOUT_JIT = '-c jit=off';

function ownPool(driver: typeof pg, base: ContextBase, url: string, poolSize: number): PostgresContext {
  const settings: pg.ClientConfig = { connectionString: url, options: WITHOUT_JIT };
  const { pool: bounds, keepAliveDelay } = base.timeouts;
  // A pool client whose statement timed out is removed by the pool itself (pg-pool drops a client released with an error).
  // The client's bound is one socket timeout per connection (see watchForAnswers), not pg's timer per statement.
  const { query_timeout: _perStatement, ...bound } = boundSettings(bounds, keepAliveDelay);
  const pool = new driver.Pool({ ...settings, ...bound, max: poolSize });
  // Every client whose socket is open: pg-pool lets go of an idle one (idle timeout, its own end) before its goodbye is answered.
  const open = new Set<pg.Client>();
  pool.on('connect', (client) => {
    open.add(client);
    client.once('end', () => open.delete(client));
    watchForAnswers(client, bounds.queryTimeout);
  });
  pool.on('error', ignoreIdleError);
  sendAgainAfterIdleClose(pool);
  let closing: Promise<void> | undefined;
  return {
    ...base,
    pool,
    connect: (own = bounds) => connectClient(driver, { ...settings, ...boundSettings(own, keepAliveDelay) }),
    close: () => (closing ??= endPool(pool, open)),
  };
}

/** How long the pool's close waits for its clients before their sockets are destroyed. */
const POOL_END_TIMEOUT_MS = 2_000;

/**
 * Ends the store's own pool. It runs last, once the acknowledgements, hand-backs and loop
 * tasks were waited for or given up on; a client still out is one of those, and one that
 * hears nothing (a partitioned network) would hold the close until its statement's client
 * bound, ~35 s, past the drain's documented bound. An idle client's goodbye is never
 * answered there either, and its half-closed socket would keep the process alive. Every
 * socket still open after {@link POOL_END_TIMEOUT_MS} is destroyed: statements under way
 * either ran or roll back on the server.
 */
async function endPool(pool: pg.Pool, open: ReadonlySet<pg.Client>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      // pg-pool keeps the clients it has not let go of in `_clients`, connecting ones included.
      const clients = [...((pool as unknown as { _clients?: pg.Client[] })._clients ?? []), ...open];
      for (const client of clients) client.connection?.stream?.destroy();
      resolve();
    }, POOL_END_TIMEOUT_MS);
  });
  const ended = async (): Promise<void> => {
    await pool.end().catch(() => undefined);
    await Promise.all([...open].map((client) => new Promise<void>((resolve) => client.once('end', () => resolve()))));
  };
  try {
    await Promise.race([ended(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A pooled connection the server closed for sitting idle (`idle_session_timeout`)
 * is dropped by the pool once the close is read; one handed out just before
 * that fails its statement with 57P05, which proves the statement never ran:
 * it is sent once more, on another connection. Promise calls only (ours).
 */
function sendAgainAfterIdleClose(pool: pg.Pool): void {
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  pool.query = ((...args: unknown[]) =>
    query(...args).catch((error: unknown) => {
      if (!isClosedWhileIdle(error)) throw error;
      return query(...args);
    })) as typeof pool.query;
}

function borrowedPool(driver: typeof pg, base: ContextBase, candidate: object): PostgresContext {
  const ds = candidate as Partial<DataSource>;
  const type = (ds.options as { type?: unknown } | undefined)?.type;
  if (typeof ds.isInitialized !== 'boolean' || !ds.driver || type === undefined) {
    throw new SchedulerConfigError('SchedulerModule', 'store.dataSource', 'must be a TypeORM DataSource');
  }
  if (type !== 'postgres') {
    throw new SchedulerConfigError('SchedulerModule', 'store.dataSource', `needs the "postgres" driver, not "${String(type)}"`);
  }
  if (!ds.isInitialized) {
    throw new SchedulerConfigError('SchedulerModule', 'store.dataSource', 'must be initialized (await dataSource.initialize()) before the scheduler starts');
  }
  const dataSource = ds as DataSource;
  // TypeORM's postgres driver keeps its pg Pool as `master`; read it on every
  // use, since a DataSource that is destroyed and initialised again has a new one.
  const currentPool = (): pg.Pool => {
    const pool = (dataSource.driver as unknown as { master?: pg.Pool }).master;
    if (!pool) throw new SchedulerConfigError('SchedulerModule', 'store.dataSource', 'has no connection pool (was it destroyed?)');
    return pool;
  };
  const watched = currentPool();
  watched.on('error', ignoreIdleError);
  const options = dataSource.options as {
    replication?: { master?: PostgresCredentials };
    connectTimeoutMS?: number;
    applicationName?: string;
    extra?: Record<string, unknown>;
  } & PostgresCredentials;
  const credentials = options.replication?.master ?? options;
  const settings: pg.ClientConfig = {
    connectionString: credentials.url,
    host: credentials.host,
    port: credentials.port,
    user: credentials.username,
    password: credentials.password,
    database: credentials.database,
    ssl: credentials.ssl,
    application_name: options.applicationName ?? credentials.applicationName,
    // As TypeORM does for its pool (e.g. `extra: { ssl: … }`); pool-only keys are ignored by a client.
    ...options.extra,
  };
  // The owner's pool keeps its own settings; our dedicated connections get our bounds and keepalive.
  const bounds: ConnectionBounds = { ...base.timeouts.pool, connectTimeout: options.connectTimeoutMS ?? CONNECT_TIMEOUT_MS };
  return {
    ...base,
    get pool() {
      return currentPool();
    },
    connect: (own = bounds) => connectClient(driver, { ...settings, ...boundSettings(own, base.timeouts.keepAliveDelay) }),
    // The app owns its DataSource: only take our listener back.
    close: async () => {
      watched.off('error', ignoreIdleError);
    },
  };
}

/**
 * A dedicated client outside the pool. It carries a no-op `error` listener
 * (a dropped connection must never crash the process); its owner adds its
 * own to notice the drop and reconnect.
 */
async function connectClient(driver: typeof pg, settings: pg.ClientConfig): Promise<pg.Client> {
  const client = new driver.Client(settings);
  client.on('error', ignoreIdleError);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/** How long a client's goodbye may take: on a half-open socket it is never answered. */
const END_TIMEOUT_MS = 1_000;

/**
 * Ends a dedicated client; a socket still open after {@link END_TIMEOUT_MS} is destroyed, so nothing waits on it.
 * @internal
 */
export async function endClient(client: pg.Client): Promise<void> {
  const timer = setTimeout(() => client.connection.stream.destroy(), END_TIMEOUT_MS);
  try {
    await client.end();
  } catch {
    // Already gone: nothing left to close.
  } finally {
    clearTimeout(timer);
  }
}

/** Hex digits of the hash in a channel name: 80 bits, so two pairs meet only by a collision of SHA-256. */
const CHANNEL_HASH_LENGTH = 20;

/**
 * The NOTIFY channel of a (schema, prefix) pair: `${schema}_${prefix}events`
 * cut to fit, then `_` and a hash of the pair. Two deployments in one
 * database must never hear each other, and the readable part alone is
 * ambiguous (`a_b` + `c_` and `a` + `b_c_` both read `a_b_c_events`); the
 * hash covers the pair with a separator no identifier contains, so distinct
 * pairs get distinct channels by construction. At most 63 bytes (an
 * identifier's limit); validated identifiers are ASCII, one byte a character.
 * @publicApi
 */
export function channelName(schema: string, prefix: string): string {
  const hash = createHash('sha256').update(`${schema}\u0000${prefix}`).digest('hex').slice(0, CHANNEL_HASH_LENGTH);
  return `${`${schema}_${prefix}events`.slice(0, 63 - 1 - CHANNEL_HASH_LENGTH)}_${hash}`;
}
