import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * Push to idle nodes: `offers` holds, per queue and node, the free slots a
 * queue runner had when it last found its queue empty, until `expires_at`
 * (the database clock; the node refreshes it while it lives). An insert on
 * another node may take slots from an offer and insert its jobs already
 * claimed by that node (see `JobPush`).
 *
 * UNLOGGED: an offer is a hint, worth losing in a crash rather than a WAL
 * flush on every change; after a crash PostgreSQL empties the table and nodes
 * offer again when they next find their queues empty.
 * @internal
 */
export const pushOffersMigration: SchedulerMigration = {
  id: 5,
  name: 'push-offers',
  timestamp: 1799107200000,
  up: (n: SqlNames) => [
    `CREATE UNLOGGED TABLE IF NOT EXISTS ${n.offers} (
      queue text NOT NULL,
      node text NOT NULL,
      slots int NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (queue, node)
    )`,
  ],
  down: (n: SqlNames) => [`DROP TABLE IF EXISTS ${n.offers}`],
};
