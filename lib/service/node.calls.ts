import type { ServicePorts } from '../composition/scheduler.ports.js';
import type { SchedulerNode } from '../scheduler.types.js';
import type { NodeRecord } from '../store/node-registry.js';

/**
 * `SchedulerService.nodes`: the store's live nodes (this one always among
 * them), with the leader, and their running jobs counted by queue from the
 * jobs themselves (each running job names its node).
 * @internal
 */
export async function listNodes(s: ServicePorts): Promise<SchedulerNode[]> {
  const now = new Date(s.clock.now());
  const registry = s.store.nodes;
  const [records, running, leader] = await Promise.all([
    registry ? registry.list(now) : Promise.resolve([] as NodeRecord[]),
    s.store.list({ states: ['running'], order: 'asc' }),
    s.peer.leaderNode(),
  ]);
  const byNode = new Map<string, SchedulerNode>();
  const add = (node: string, record: NodeRecord | undefined): SchedulerNode => {
    const queues = record?.queues ?? {};
    const entry: SchedulerNode = {
      node,
      leader: node === leader,
      self: node === s.node,
      heartbeatAt: record?.heartbeatAt ?? null,
      startedAt: record?.startedAt ?? null,
      version: record?.version ?? null,
      queues: { ...queues },
      running: Object.fromEntries(Object.keys(queues).map((queue) => [queue, 0])),
    };
    byNode.set(node, entry);
    return entry;
  };
  for (const record of records) add(record.node, record);
  // This node before its first beat, or on a store that keeps no registry: what it knows of itself.
  if (!byNode.has(s.node)) {
    const self = add(s.node, undefined);
    for (const runner of s.queues.all()) {
      self.queues[runner.name] = runner.limit;
      self.running[runner.name] = 0;
    }
  }
  for (const job of running) {
    if (job.node === null) continue;
    // Without a registry, the nodes named on running jobs are the only others known; with one, a node missing from it is not live.
    const entry = byNode.get(job.node) ?? (registry ? undefined : add(job.node, undefined));
    if (entry) entry.running[job.queue] = (entry.running[job.queue] ?? 0) + 1;
  }
  return [...byNode.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}
