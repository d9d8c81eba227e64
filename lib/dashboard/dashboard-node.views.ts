import type { SchedulerNode } from '../scheduler.types.js';
import { iso } from './dashboard-dates.js';

/** `GET api/nodes`: one live node. @publicApi */
export interface DashboardNode {
  /** Its name (`nodeName`). */
  id: string;
  /** It holds the leader lease. */
  leader: boolean;
  /** It is the node answering this request. */
  self: boolean;
  /** Its last beat, `null` before its first one (or on a store that keeps no node registry). */
  heartbeatAt: string | null;
  /** When it started, `null` when unknown. */
  startedAt: string | null;
  /** Its running jobs by queue, 0 for a queue it runs idle. */
  running: Record<string, number>;
  /** The concurrency of each queue it runs. */
  concurrency: Record<string, number>;
  /** The package version it runs, `null` when unknown. */
  version: string | null;
}

/** `GET api/nodes`: the live nodes of the cluster, by name. @publicApi */
export interface DashboardNodeList {
  nodes: DashboardNode[];
}

/** @internal */
export function nodeView(node: SchedulerNode): DashboardNode {
  return {
    id: node.node,
    leader: node.leader,
    self: node.self,
    heartbeatAt: iso(node.heartbeatAt),
    startedAt: iso(node.startedAt),
    running: node.running,
    concurrency: node.queues,
    version: node.version,
  };
}
