import type { SqliteMigration } from './sqlite-migration.js';

/**
 * The node registry (`JobStore.nodes`) in the `nodes` table the orphan
 * rescue already keeps: what each node said at its last beat, and until when
 * it is live. A row written only by the rescue (an older release) has no
 * beat and is not listed.
 * @internal
 */
export const nodeBeatsMigration: SqliteMigration = {
  id: 5,
  name: 'node-beats',
  up: [
    'ALTER TABLE nodes ADD COLUMN version TEXT',
    'ALTER TABLE nodes ADD COLUMN queues TEXT',
    'ALTER TABLE nodes ADD COLUMN heartbeat_at INTEGER',
    'ALTER TABLE nodes ADD COLUMN expires_at INTEGER',
  ],
};
