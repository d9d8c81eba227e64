import { jobColumns } from './job-rows.js';
import type { SqlNames } from './names.js';
import type { Statement } from './statement.js';

/**
 * One job as the insert statement reads it from its JSON parameter, but for
 * `args`, which {@link insertRecordJson} splices in as the JSON text already
 * measured against the payload limit (no second serialisation).
 */
export interface InsertRecord {
  ord: number;
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
  unique_key: string | null;
  serial_key: string | null;
  pinned_node: string | null;
  tags: string[];
  meta: unknown;
  trace: unknown;
}

/** Which earlier job an input collided with ({@link conflictsSql}). */
export interface ConflictProbe {
  ord: number;
  tick_key: string | null;
  unique_key: string | null;
  serial_key: string | null;
}

const FIELDS = [
  'name', 'schedule', 'queue', 'args', 'priority', 'max_attempts', 'timeout_ms', 'run_at', 'scheduled_at',
  'misfired', 'tick_key', 'unique_key', 'serial_key', 'pinned_node', 'tags', 'meta', 'trace',
].join(', ');

/** The insert and its conflict lookup, for one store's tables. */
export function insertStatements(n: SqlNames) {
  // Any number of jobs in ONE statement, one JSON parameter (1 round trip and
  // 1 commit for enqueueMany: ~35k jobs/s in batches of 1000 on a local
  // PostgreSQL 15, 16 µs of Node CPU per job; 0.6 ms for a single job). It
  // returns only what the database decided (id, insert time); the caller
  // builds the rest of each job from its input: sending back and parsing all
  // 28 columns of every new row took half of a bulk enqueue's time. Ids are taken from the sequence in input order
  // first, so returned rows map back to their input and ties in claim order
  // keep insertion order. ON CONFLICT DO NOTHING (no target: every unique
  // index) also skips a job that collides with one earlier in the same batch.
  // The NOTIFY rides in the same statement, so it is sent exactly when the
  // jobs commit (with the caller's transaction, if any): one per distinct
  // queue, carrying only its name. Every queue that got a job is notified,
  // delayed ones too: "due" would be judged by the database clock, and any
  // skew (or a test's fake clock) would then silence the wake-up of jobs due
  // now, the common case; a wake for a delayed job costs one empty claim.
  const records = `jsonb_to_recordset($1::jsonb) AS r(
        ord int, name text, schedule text, queue text, args jsonb, priority smallint, max_attempts int,
        timeout_ms int, run_at timestamptz, scheduled_at timestamptz, misfired boolean, tick_key text,
        unique_key text, serial_key text, pinned_node text, tags text[], meta jsonb, trace jsonb)`;
  const woken = (where: string): string => `woken AS (
      SELECT count(pg_notify($2, jsonb_build_object('type', 'insert', 'queue', q.queue)::text)) AS sent
      FROM (SELECT DISTINCT queue FROM inserted ${where}) q
    )`;
  const insert = `
    WITH input AS (
      SELECT ${n.nextJobId} AS id, r.*
      FROM ${records}
      ORDER BY r.ord
    ),
    inserted AS (
      INSERT INTO ${n.jobs} AS j (id, ${FIELDS})
      SELECT i.id, ${FIELDS.split(', ').map((f) => `i.${f}`).join(', ')}
      FROM input i
      WHERE i.serial_key IS NULL
        OR NOT EXISTS (SELECT 1 FROM ${n.jobs} w WHERE w.serial_key = i.serial_key AND w.state = 'available')
      ORDER BY i.ord
      ON CONFLICT DO NOTHING
      RETURNING j.id, j.queue, j.inserted_at
    ),
    ${woken('')}
    SELECT input.ord, inserted.id, floor(extract(epoch FROM inserted.inserted_at) * 1000)::float8 AS inserted_at_ms
    FROM inserted JOIN input ON input.id = inserted.id CROSS JOIN woken`;

  const insertKeyless = insert.replace('ON CONFLICT DO NOTHING', '');

  // Jobs without a serial key inserted already claimed by an idle node ($3
  // now, $4 node), as the claim statement would leave them; a paused name, a
  // pin or a later run_at leaves a job available (and notified) as usual.
  // Saves the NOTIFY → claim round trips between an enqueue (or a tick) and
  // its start. Tick and unique keys hold as in the plain insert.
  const insertClaimed = `
    WITH input AS (
      SELECT ${n.nextJobId} AS id, r.*,
        (r.run_at <= $3::timestamptz AND r.pinned_node IS NULL
          AND NOT EXISTS (SELECT 1 FROM ${n.scheduleStates} p WHERE p.paused AND (p.name = r.name OR p.name = r.schedule))) AS claimed
      FROM ${records}
      ORDER BY r.ord
    ),
    inserted AS (
      INSERT INTO ${n.jobs} AS j (id, ${FIELDS}, state, attempt, started_at, heartbeat_at, node, fencing_token)
      SELECT i.id, ${FIELDS.split(', ').map((f) => `i.${f}`).join(', ')},
        CASE WHEN i.claimed THEN 'running' ELSE 'available' END, CASE WHEN i.claimed THEN 1 ELSE 0 END,
        CASE WHEN i.claimed THEN $3::timestamptz END, CASE WHEN i.claimed THEN $3::timestamptz END,
        CASE WHEN i.claimed THEN $4::text END, CASE WHEN i.claimed THEN ${n.nextFencingToken} ELSE 0 END
      FROM input i
      ORDER BY i.ord
      ON CONFLICT DO NOTHING
      RETURNING j.id, j.queue, j.inserted_at, j.state, j.fencing_token
    ),
    ${woken(`WHERE state = 'available'`)}
    SELECT input.ord, inserted.id, floor(extract(epoch FROM inserted.inserted_at) * 1000)::float8 AS inserted_at_ms,
      inserted.state = 'running' AS claimed, inserted.fencing_token
    FROM inserted JOIN input ON input.id = inserted.id CROSS JOIN woken`;

  const insertClaimedKeyless = insertClaimed.replace('ON CONFLICT DO NOTHING', '');

  // The job each skipped input collided with: tick key first, then unique,
  // then serial (the memory store's order). A separate statement, because the
  // insert's own snapshot cannot see rows it inserted or that a concurrent
  // insert committed while it ran.
  const conflicts = `
    SELECT k.ord, c.conflict, ${jobColumns('c')}
    FROM jsonb_to_recordset($1::jsonb) AS k(ord int, tick_key text, unique_key text, serial_key text)
    CROSS JOIN LATERAL (
      (SELECT 1 AS rank, 'tick' AS conflict, ${jobColumns('j')} FROM ${n.jobs} j WHERE j.tick_key = k.tick_key)
      UNION ALL
      (SELECT 2, 'unique', ${jobColumns('j')} FROM ${n.jobs} j
        WHERE j.unique_key = k.unique_key AND j.state IN ('available', 'running'))
      UNION ALL
      (SELECT 3, 'serial', ${jobColumns('j')} FROM ${n.jobs} j
        WHERE j.serial_key = k.serial_key AND j.state = 'available'
        ORDER BY (j.attempt = 0 AND j.errors = '[]'::jsonb) DESC, j.id LIMIT 1)
      ORDER BY rank
      LIMIT 1
    ) c`;

  return {
    /**
     * `records`: the {@link insertRecordJson} of each job, in input order.
     * `keyless`: no job has a tick, unique or serial key, so none can collide
     * and the plain INSERT variant is used: ON CONFLICT makes every row a
     * speculative insertion (one more WAL record per row, ~12 % of the WAL
     * and ~10 % of the time of a 1,000-job batch here).
     */
    insert: (records: readonly string[], channel: string, keyless: boolean): Statement => ({
      name: n.statement(keyless ? 'insert_keyless' : 'insert'),
      text: keyless ? insertKeyless : insert,
      values: [`[${records.join(',')}]`, channel],
    }),
    /**
     * `records` without serial keys, inserted claimed by `node` where they
     * qualify (see `InsertOptions.claimFor`); `keyless` as for {@link insert}.
     */
    insertClaimed: (records: readonly string[], channel: string, now: Date, node: string, keyless: boolean): Statement => ({
      name: n.statement(keyless ? 'insert_claimed_keyless' : 'insert_claimed'),
      text: keyless ? insertClaimedKeyless : insertClaimed,
      values: [`[${records.join(',')}]`, channel, now, node],
    }),
    conflicts: (probes: readonly ConflictProbe[]): Statement => ({ text: conflicts, values: [JSON.stringify(probes)] }),
  };
}

/** The JSON text of one insert record (`recordJson`: an {@link InsertRecord}) with its `args` spliced in. */
export function insertRecordJson(recordJson: string, argsJson: string): string {
  return `${recordJson.slice(0, -1)},"args":${argsJson}}`;
}
