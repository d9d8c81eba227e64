import type { PostgresTimeoutOptions } from '../postgres/postgres.timeouts.js';
import type { Duration } from '../common/duration.js';

/**
 * `store: { type: 'memory', … }`: jobs kept in this process (the default store).
 * @publicApi
 */
export interface MemoryStoreOptions {
  type: 'memory';
  /**
   * Largest JSON payload (a job's `args`, its `meta`, a handler's result), in
   * bytes of UTF-8, from 1 to 16 MiB; the same rule as PostgreSQL's, so that
   * what works on one store works on the other. @default 1048576 (1 MiB)
   */
  maxPayloadBytes?: number;
}

/**
 * `store: { type: 'postgres', … }`: jobs kept in PostgreSQL (the `nestjs-scheduler/postgres` engine).
 * @publicApi
 */
export interface PostgresStoreOptions extends PostgresTimeoutOptions {
  type: 'postgres';
  /** A connection string. Give this or `dataSource`. */
  url?: string;
  /** The app's TypeORM `DataSource` (postgres driver), e.g. injected through `forRootAsync`. */
  dataSource?: object;
  /** Schema of the scheduler's tables: letters, digits and `_`, starting with a letter or `_`, at most 63 bytes. @default 'public' */
  schema?: string;
  /** Prefix of the table names, same rules (may be empty only if you say so with `''`). @default 'scheduler_' */
  tablePrefix?: string;
  /** Apply the shipped migrations at start (safe when many nodes boot at once). @default true */
  migrate?: boolean;
  /** Start while PostgreSQL is down and begin working once it is reachable. @default true */
  waitForDatabase?: boolean;
  /**
   * Largest JSON payload (a job's `args`, its `meta`, a handler's result), in
   * bytes of UTF-8, from 1 to 16 MiB: larger input is refused with
   * `PayloadTooLargeError`, a larger result fails the attempt with
   * `UnstorableResultError`. @default 1048576 (1 MiB)
   */
  maxPayloadBytes?: number;
  /**
   * Push to idle nodes: a node whose queue runner finds its queue empty
   * offers its free slots, and a job enqueued on another node (a web node,
   * say) is inserted already claimed by it and started there without a
   * claim round trip. Set `false` to have every job claimed by its runner
   * (needs nothing from the schema either way). @default true
   */
  push?: boolean;
  /**
   * Connections of the pool the scheduler opens for `url`. Three dedicated
   * connections come on top, opened at start: LISTEN, the leader lease (not
   * with `peer: false`) and heartbeats, so a node uses up to `poolSize + 3`.
   * @default 10
   */
  poolSize?: number;
}

/**
 * `store: { type: 'redis', … }`: jobs kept in Redis (the `nestjs-scheduler/redis`
 * engine, on ioredis; see docs/redis.md).
 * @publicApi
 */
export interface RedisStoreOptions {
  type: 'redis';
  /** A connection string (`redis://`, `rediss://`). Give this or `client`. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /**
   * The app's ioredis client (e.g. the one BullMQ already uses). The store
   * opens two more like it (pub/sub, the leader lease) and closes only those.
   */
  client?: object;
  /**
   * Every key of the store is `{keyPrefix}:…`: the braces make it a Redis
   * Cluster hash tag, so all keys live in one slot and a script may touch
   * any of them. Nodes that share a prefix share the jobs. No braces.
   * @default 'scheduler'
   */
  keyPrefix?: string;
  /** The database number, with `url` (give it inside the client otherwise). @default 0 */
  db?: number;
  /**
   * Largest JSON payload (a job's `args`, its `meta`, a handler's result), in
   * bytes of UTF-8, from 1 to 16 MiB; the same rule as the other stores.
   * @default 1048576 (1 MiB)
   */
  maxPayloadBytes?: number;
  /** Log a warning at start when the server keeps nothing on disk (no AOF, no RDB snapshots). @default true */
  warnWithoutPersistence?: boolean;
  /**
   * A connection with a command waiting and no byte of answer for this long
   * is taken for dead (half-open) and replaced; its commands are sent again.
   * On the connections the store opens; with `client`, on the two it forks
   * (set ioredis's `socketTimeout` on your own). The lease's connection is
   * bounded by a third of `leaseTtl` when that is shorter. Heartbeats go
   * through the store's connection: keep it well under
   * `lifeline.rescueAfter` minus `lifeline.heartbeat`.
   * @default '15s'
   */
  socketTimeout?: Duration;
  /** Idle time before TCP keepalive probes start on the connections the store opens. @default '10s' */
  keepAliveDelay?: Duration;
  /**
   * Start even while Redis cannot be reached (with `url`): the node boots,
   * its calls fail with `StoreUnavailableError` until the first connection,
   * and the scheduler loads, claims and leads once the server answers.
   * `false`: bootstrap fails with `StoreUnavailableError` instead.
   * @default true
   */
  waitForDatabase?: boolean;
}

/**
 * `store: { type: 'sqlite', path }` or `store: { type: 'sqlite', dataSource }`:
 * jobs kept in one SQLite file (the `nestjs-scheduler/sqlite` engine, on
 * `better-sqlite3` 12 or 13), durable with no server. Several processes of one
 * machine may open the same file: one is leader (a lease row), claims never
 * hand a job to two of them, and notifications reach them all by polling the
 * file's data version. Give exactly one of `path` or `dataSource`.
 * @publicApi
 */
export interface SqliteStoreOptions {
  type: 'sqlite';
  /**
   * The database file, opened by the store on a connection of its own (and
   * closed at shutdown); created with its directory's permissions when
   * missing (not `:memory:`: nothing would survive a restart). Give this or
   * `dataSource`.
   */
  path?: string;
  /**
   * The app's TypeORM `DataSource` of type `'better-sqlite3'`, initialised
   * before the scheduler starts (e.g. injected through `forRootAsync`). The
   * store then works on the DataSource's own connection (SQLite has one
   * writer per file), keeps its tables in the DataSource's database, never
   * closes the connection, and `enqueue(…, { manager })` joins the caller's
   * transaction. Its writes wait while a transaction of the app is open on
   * that connection (see `busyTimeout`). Give this or `path`.
   */
  dataSource?: object;
  /**
   * How long a call waits, in ms, before it fails with `SqliteBusyError`
   * (code `SQLITE_BUSY`, a `StoreUnavailableError`): with `path`, in all,
   * for another process's write lock, between short tries that leave the
   * event loop free; with `dataSource`, for a transaction of the app that is
   * open on the shared connection, while the DataSource's own `timeout`
   * option stays the connection's busy timeout toward other processes (a
   * wait that blocks the event loop, as every query of the app does).
   * @default 5000
   */
  busyTimeout?: number;
  /**
   * How often each process checks the file's data version for notifications
   * from the others (a cancel, a paused queue, new jobs), in ms; a check that
   * finds no change reads nothing else. @default 100
   */
  notifyInterval?: number;
  /**
   * Largest JSON payload (a job's `args`, its `meta`, a handler's result), in
   * bytes of UTF-8, from 1 to 16 MiB, the same rule as the other stores'.
   * @default 1048576 (1 MiB)
   */
  maxPayloadBytes?: number;
}
