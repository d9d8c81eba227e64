import type { Job } from '../store/job.types.js';
import type { SqliteConnection } from './sqlite.connection.js';
import type { SqliteLifecycle } from './sqlite.lifecycle.js';

interface NodeRow {
  node: string;
  host: string;
  pid: number;
}

/**
 * At start: the running jobs of processes of this machine that died without
 * closing the file (a row in `nodes` whose pid no longer exists) go back to
 * available at once, as a rescue would, without waiting `rescueAfter` for
 * their heartbeats to age. Then this process records itself.
 *
 * Why only this machine's: a process id means something only on its own
 * host. Rows of other hosts (containers sharing a volume have their own
 * hostnames) are left to the heartbeat rescue, so a live process elsewhere
 * never loses its jobs. A clean stop deletes its row (see `SqliteStore.close`).
 * @returns the jobs rescued.
 * @internal
 */
export function rescueOrphans(sqlite: SqliteConnection, lifecycle: SqliteLifecycle, node: string, host: string, pid: number, now: number): Promise<Job[]> {
  return sqlite.write(() => {
    const rows = sqlite.statement('SELECT node, host, pid FROM nodes').all() as NodeRow[];
    const dead = rows.filter((row) => row.host === host && row.pid !== pid && !processExists(row.pid)).map((row) => row.node);
    const remove = sqlite.statement('DELETE FROM nodes WHERE node = ?');
    for (const name of dead) remove.run(name);
    // This node's own name is among them when an earlier process of this host ran under it and died.
    const rescued = dead.length > 0 ? lifecycle.rescue(0, now, dead) : [];
    sqlite.statement('INSERT OR REPLACE INTO nodes (node, host, pid, started_at) VALUES (?, ?, ?, ?)').run(node, host, pid, now);
    return rescued;
  });
}

/** Whether a process of this id exists on this machine (EPERM: it exists, owned by another user). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
