import type { SqlNames } from '../sql/names.js';
import type { SchedulerMigration } from './migration.js';

/**
 * An offer names the backend process of its node's LISTEN session, and an
 * insert pushes only to offers whose session still exists: a node that dies
 * (SIGKILL, a lost socket) loses its session at once, while its offer's
 * `expires_at` would have stood for up to its whole lifetime, drawing pushes
 * that then waited for the rescue.
 *
 * Nullable, so that nodes still on the previous version keep offering during
 * a rolling upgrade: an offer without a session is never pushed to, and its
 * node offers with one once it runs this version.
 * @internal
 */
export const offerListenersMigration: SchedulerMigration = {
  id: 6,
  name: 'offer-listeners',
  timestamp: 1799193600000,
  up: (n: SqlNames) => [`ALTER TABLE ${n.offers} ADD COLUMN IF NOT EXISTS listener int`],
  down: (n: SqlNames) => [`ALTER TABLE ${n.offers} DROP COLUMN IF EXISTS listener`],
};
