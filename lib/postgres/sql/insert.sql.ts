import { randomUUID } from 'node:crypto';
import { conflictStatements } from './conflicts.sql.js';
import { epochMs } from './job-rows.js';
import type { SqlNames } from './names.js';
import type { Statement } from './statement.js';
import { uniqueKeySql } from './unique-keys.sql.js';

/**
 * The fields a batch's jobs share when every job but for `args` and
 * `unique_key` is the same (what `enqueueMany` and a single job produce),
 * validated and sent once as parameters ({@link SHARED_COLUMNS} order).
 * @internal
 */
export interface SharedFields {
  name: string;
  schedule: string | null;
  queue: string;
  priority: number;
  max_attempts: number;
  timeout_ms: number | null;
  run_at: string;
  scheduled_at: string;
  misfired: boolean;
  tick_key: string | null;
  serial_key: string | null;
  pinned_node: string | null;
  tags: string[];
  /** JSON text. */
  meta: string;
  /** JSON text, or null. */
  trace: string | null;
  /** See `encodePreemptible`. */
  preemptible: string | null;
}

/**
 * The jobs of one insert as its statement reads them. `items` holds one JSON
 * object per job, in input order: `{"a": args}` when `shared` is set, with
 * `"u": uniqueKey, "m": its states mask, "p": its period, "t": the insert's
 * time` for a unique job; otherwise every column (see `insertBatch`).
 * @internal
 */
export interface InsertBatch {
  shared: SharedFields | null;
  items: string[];
}

/**
 * The one row an insert answers: per inserted job, in input order, its position in the batch (1-based), id and fencing token.
 * @internal
 */
export interface InsertedRow {
  ords: string | null;
  ids: string | null;
  inserted_at_ms: number | null;
  tokens?: string | null;
  /** The node a push claimed the jobs for, or null. */
  pushed_to?: string | null;
}

const SHARED_COLUMNS = [
  ['name', 'text'],
  ['schedule', 'text'],
  ['queue', 'text'],
  ['priority', 'smallint'],
  ['max_attempts', 'int'],
  ['timeout_ms', 'int'],
  ['run_at', 'timestamptz'],
  ['scheduled_at', 'timestamptz'],
  ['misfired', 'boolean'],
  ['tick_key', 'text'],
  ['serial_key', 'text'],
  ['pinned_node', 'text'],
  ['tags', 'text[]'],
  ['meta', 'jsonb'],
  ['trace', 'jsonb'],
  ['preemptible', 'text'],
] as const;
const JOB_RECORD_COLUMNS = [...SHARED_COLUMNS, ['args', 'jsonb'], ['unique_key', 'text']] as const;
/** What a unique key row takes from its job's input (not columns of the job). */
const UNIQUE_COLUMNS = [
  ['unique_states', 'smallint'],
  ['unique_period', 'bigint'],
  ['unique_since', 'timestamptz'],
] as const;
const RECORD_COLUMNS = [...JOB_RECORD_COLUMNS, ...UNIQUE_COLUMNS] as const;
const FIELDS = JOB_RECORD_COLUMNS.map(([column]) => column);
const RECORD_FIELDS = RECORD_COLUMNS.map(([column]) => column);

/**
 * The insert statements (plain and claimed-at-insert, per batch form) and the conflict lookup ({@link conflictStatements}), for one store's tables.
 * @internal
 */
export function insertStatements(n: SqlNames) {
  const uniqueKeys = uniqueKeySql(n);
  // Any number of jobs in ONE statement (1 round trip, 1 commit). The jobs
  // arrive as ONE json parameter read by json_to_recordset — json, not
  // jsonb: the jsonb form is parsed twice (text → jsonb → record), 4 ms of a
  // 1,000-job batch. A batch whose jobs share everything but args and unique
  // key (enqueueMany, any single job) sends those fields once as parameters
  // and per job only `{"a": args}`: 16 bytes a job instead of 370, and a
  // 1,000-job insert took 10 ms instead of 19 (statement round trip, local
  // PostgreSQL 15). Ids are taken from the sequence in input order first, so
  // ties in claim order keep insertion order; keys are taken as described at
  // `keyed` below. The answer is ONE row of arrays (positions, ids,
  // tokens) rather than a row per job: 1 ms less per 1,000 jobs, and no
  // per-row parsing in pg. inserted_at is the transaction's now(), the same
  // for every row. The NOTIFY rides in the same statement, so it is sent
  // exactly when the jobs commit (with the caller's transaction, if any): one
  // per distinct queue, carrying only its name. Every queue that got a job is
  // notified, delayed ones too: "due" would be judged by the database clock,
  // and any skew (or a test's fake clock) would then silence the wake-up of
  // jobs due now; a wake for a delayed job costs one empty claim.
  const source = (shared: boolean, first: number): string =>
    shared
      ? `SELECT ${n.nextJobId} AS id, r.ord, r.a AS args, r.u AS unique_key, r.m AS unique_states, r.p AS unique_period, r.t AS unique_since,
          ${SHARED_COLUMNS.map(([column, type], k) => `$${first + k}::${type} AS ${column}`).join(', ')}
        FROM ROWS FROM (json_to_recordset($1::json) AS (a jsonb, u text, m smallint, p bigint, t timestamptz)) WITH ORDINALITY AS r(a, u, m, p, t, ord)`
      : `SELECT ${n.nextJobId} AS id, r.*
        FROM ROWS FROM (json_to_recordset($1::json) AS (${RECORD_COLUMNS.map(([column, type]) => `${column} ${type}`).join(', ')}))
          WITH ORDINALITY AS r(${RECORD_FIELDS.join(', ')}, ord)`;
  // A JSON null in args reads as SQL NULL; it is stored as the JSON value null.
  const selected = FIELDS.map((f) => (f === 'args' ? `coalesce(i.args, 'null'::jsonb)` : `i.${f}`)).join(', ');
  // Each notice also names the queue's first new job in claim order, so
  // runners whose claim cursor lies before it keep their cursor.
  const woken = (where: string): string => `woken AS (
      SELECT count(pg_notify($2, jsonb_build_object('type', 'insert', 'queue', q.queue, 'first', q.first)::text)) AS sent
      FROM (
        SELECT queue, (array_agg(jsonb_build_array(priority, ${epochMs('run_at')}, id::text) ORDER BY priority, run_at, id))[1] AS first
        FROM inserted ${where} GROUP BY queue
      ) q
    )`;
  const answer = (extra: string): string => `
    SELECT array_agg(i.ord ORDER BY i.ord)::text AS ords, array_agg(ins.id ORDER BY i.ord)::text AS ids,
      ${epochMs('min(ins.inserted_at)')} AS inserted_at_ms${extra}
    FROM inserted ins JOIN input i ON i.id = ins.id CROSS JOIN woken`;

  // Keys live in side tables (migrations 4 and 7), so the job row's indexes
  // never name a column that changes. A unique or fresh serial key is taken
  // first, on its primary key: a concurrent insert of the same key waits for
  // the other to commit, then skips (a serial key) or judges the key as the
  // other left it (a unique key, see `uniqueKeySql.take`). A job is inserted
  // only with the keys it took. Within one batch the first job of each key
  // takes it. A key taken by a job that then collided on its tick key is left
  // pointing at no job: the conflict lookup drops such stale keys.
  const keyed = (): string => `
    ${uniqueKeys.take(
      'ukeys',
      `SELECT DISTINCT ON (i.unique_key) i.unique_key, i.id, coalesce(i.unique_states, 7), i.unique_period, coalesce(i.unique_since, now())
      FROM input i WHERE i.unique_key IS NOT NULL
      ORDER BY i.unique_key, i.ord`,
    )},
    keys AS (
      INSERT INTO ${n.jobKeys} (kind, key, id)
      SELECT DISTINCT ON (i.serial_key) 's', i.serial_key, i.id FROM input i
      WHERE i.serial_key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${n.ready} w WHERE w.serial_key = i.serial_key)
      ORDER BY i.serial_key, i.ord
      ON CONFLICT DO NOTHING
      RETURNING id
    ),`;
  const admitted = (keyless: boolean): string =>
    keyless
      ? ''
      : `WHERE (i.unique_key IS NULL OR i.id IN (SELECT id FROM ukeys))
        AND (i.serial_key IS NULL OR i.id IN (SELECT id FROM keys))`;
  // Every inserted job still available gets its row in the ready list.
  const queued = (where: string): string => `queued AS (
      INSERT INTO ${n.ready} (queue, priority, run_at, id, name, schedule, pinned_node, serial_key)
      SELECT queue, priority, run_at, id, name, schedule, pinned_node, serial_key FROM inserted ${where}
    ),`;
  const returned = 'j.id, j.queue, j.inserted_at, j.priority, j.run_at, j.name, j.schedule, j.pinned_node, j.serial_key';

  const insert = (shared: boolean, keyless: boolean): string => `
    WITH input AS (${source(shared, 3)}),
    ${keyless ? '' : keyed()}
    inserted AS (
      INSERT INTO ${n.jobs} AS j (id, ${FIELDS.join(', ')}, state)
      SELECT i.id, ${selected}, 'available'
      FROM input i
      ${admitted(keyless)}
      ORDER BY i.ord
      ${keyless ? '' : 'ON CONFLICT DO NOTHING'}
      RETURNING ${returned}
    ),
    ${queued('')}
    ${woken('')}
    ${answer('')}`;

  // Jobs without a serial key inserted already claimed by an idle node ($3
  // now, $4 node, $5 the claim's token), as the claim statement would leave
  // them; a paused name, a pin or a later run_at leaves a job available (and
  // notified) as usual. Saves the NOTIFY → claim round trips between an
  // enqueue (or a tick) and its start. Tick and unique keys hold as in the
  // plain insert. `claimed` is computed in `input`, which is read more than
  // once and so materialised: in a CTE of its own, read once, PostgreSQL
  // inlined it into each CASE below (a probe of the states table per CASE per job).
  //
  // Pushed, the node is another one's ($4 is the inserting node, $6 how many
  // jobs, $7 their queue): the offer with the most free slots, taken only
  // while no due job of the queue waits (a push never overtakes queued work)
  // and its node's LISTEN session lives (a dead node's offer outlives it),
  // skipped when another insert holds it. The jobs are left claimed ahead
  // (no start time: a target that dies before starting them gives their
  // attempt back at the rescue), and the target is told by a `push` notice
  // that carries their ids and the claim.
  const offer = `offer AS (
      UPDATE ${n.offers} o SET slots = o.slots - $6::int
      FROM (
        SELECT queue, node FROM ${n.offers}
        WHERE queue = $7::text AND node <> $4::text AND slots >= $6::int AND expires_at > now()
          AND EXISTS (SELECT 1 FROM pg_stat_get_activity(listener) a WHERE a.pid = listener)
          AND NOT EXISTS (SELECT 1 FROM ${n.ready} r WHERE r.queue = $7::text AND r.run_at <= $3::timestamptz)
        ORDER BY slots DESC, node
        LIMIT 1
        FOR UPDATE SKIP LOCKED
      ) pick
      WHERE o.queue = pick.queue AND o.node = pick.node
      RETURNING o.node
    ),`;
  const told = `told AS (
      SELECT count(pg_notify($2, jsonb_build_object('type', 'push', 'node', (SELECT node FROM offer), 'queue', $7::text, 'claim', $5::text, 'ids', p.ids)::text)) AS sent
      FROM (SELECT array_agg(id::text ORDER BY id) AS ids FROM inserted WHERE state = 'running') p
      WHERE p.ids IS NOT NULL
    )`;
  const insertClaimed = (shared: boolean, keyless: boolean, pushed: boolean): string => {
    const node = pushed ? '(SELECT node FROM offer)' : '$4::text';
    return `
    WITH ${pushed ? offer : ''}
    input AS (
      SELECT s.*, (s.run_at <= $3::timestamptz AND s.pinned_node IS NULL ${pushed ? 'AND EXISTS (SELECT 1 FROM offer)' : ''}
        AND NOT EXISTS (SELECT 1 FROM ${n.scheduleStates} p WHERE p.paused AND (p.name = s.name OR p.name = s.schedule))) AS claimed
      FROM (${source(shared, pushed ? 8 : 6)}) s
    ),
    ${keyless ? '' : keyed()}
    inserted AS (
      INSERT INTO ${n.jobs} AS j (id, ${FIELDS.join(', ')}, state, attempt, started_at, heartbeat_at, node, fencing_token, claim)
      SELECT i.id, ${selected},
        CASE WHEN i.claimed THEN 'running' ELSE 'available' END, CASE WHEN i.claimed THEN 1 ELSE 0 END,
        ${pushed ? 'NULL' : 'CASE WHEN i.claimed THEN $3::timestamptz END'}, CASE WHEN i.claimed THEN $3::timestamptz END,
        CASE WHEN i.claimed THEN ${node} END, CASE WHEN i.claimed THEN ${n.nextFencingToken} ELSE 0 END,
        CASE WHEN i.claimed THEN $5::uuid END
      FROM input i
      ${admitted(keyless)}
      ORDER BY i.ord
      ${keyless ? '' : 'ON CONFLICT DO NOTHING'}
      RETURNING ${returned}, j.state, j.fencing_token
    ),
    ${queued(`WHERE state = 'available'`)}
    batch AS (
      INSERT INTO ${n.claims} (token, node, ids, pending)
      SELECT $5::uuid, ${node}, array_agg(id), count(*) FROM inserted WHERE state = 'running' HAVING count(*) > 0
    ),
    ${pushed ? `${told},` : ''}
    ${woken(`WHERE state = 'available'`)}
    ${answer(`, array_agg(ins.fencing_token ORDER BY i.ord)::text AS tokens${pushed ? ', (SELECT node FROM offer) AS pushed_to' : ''}`)}${pushed ? ' CROSS JOIN told' : ''}`;
  };

  const texts = new Map<string, string>();
  type Mode = 'plain' | 'claimed' | 'pushed';
  const variant = (mode: Mode, shared: boolean, keyless: boolean): { name: string; text: string } => {
    const name = n.statement(`insert${mode === 'plain' ? '' : `_${mode}`}${shared ? '_shared' : ''}${keyless ? '_keyless' : ''}`);
    let text = texts.get(name);
    if (text === undefined) texts.set(name, (text = mode === 'plain' ? insert(shared, keyless) : insertClaimed(shared, keyless, mode === 'pushed')));
    return { name, text };
  };
  const values = (batch: InsertBatch, head: unknown[]): unknown[] => {
    const items = `[${batch.items.join(',')}]`;
    const shared = batch.shared;
    return shared ? [items, ...head, ...SHARED_COLUMNS.map(([column]) => shared[column])] : [items, ...head];
  };

  return {
    /**
     * `keyless`: no job has a tick, unique or serial key, so none can collide
     * and the plain INSERT variant is used: ON CONFLICT makes every row a
     * speculative insertion (one more WAL record per row, ~12 % of the WAL
     * and ~10 % of the time of a 1,000-job batch here).
     */
    insert: (batch: InsertBatch, channel: string, keyless: boolean): Statement => ({
      ...variant('plain', batch.shared !== null, keyless),
      values: values(batch, [channel]),
    }),
    /** A batch without serial keys, inserted claimed by `node` where it qualifies (see `InsertOptions.claimFor`); `keyless` as for {@link insert}. */
    insertClaimed: (batch: InsertBatch, channel: string, now: Date, node: string, keyless: boolean): Statement => ({
      ...variant('claimed', batch.shared !== null, keyless),
      values: values(batch, [channel, now, node, randomUUID()]),
    }),
    /**
     * One queue's batch, every job due, unpinned and without a serial key,
     * inserted claimed by a node that offered idle slots, when one did (see
     * `InsertOptions.push`); `from` is the inserting node.
     */
    insertPushed: (batch: InsertBatch, channel: string, now: Date, from: string, queue: string, keyless: boolean): Statement => ({
      ...variant('pushed', batch.shared !== null, keyless),
      values: values(batch, [channel, now, from, randomUUID(), batch.items.length, queue]),
    }),
    ...conflictStatements(n),
  };
}
