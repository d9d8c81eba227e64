import type { NodeBeat, NodeRecord, NodeRegistry } from '../node-registry.js';

interface Entry {
  record: NodeRecord;
  /** Epoch ms after which the node is no longer live. */
  until: number;
}

/**
 * The nodes of a memory store: the apps of this process that share the
 * store instance (usually one).
 * @internal
 */
export class MemoryNodeRegistry implements NodeRegistry {
  private readonly nodes = new Map<string, Entry>();

  async beat(beat: NodeBeat, now: Date, ttlMs: number): Promise<void> {
    this.forgetExpired(now);
    const record: NodeRecord = {
      node: beat.node,
      version: beat.version,
      queues: { ...beat.queues },
      startedAt: new Date(beat.startedAt),
      heartbeatAt: new Date(now),
    };
    this.nodes.set(beat.node, { record, until: now.getTime() + ttlMs });
  }

  async list(now: Date): Promise<NodeRecord[]> {
    this.forgetExpired(now);
    return [...this.nodes.values()]
      .map(({ record }) => ({ ...record, queues: { ...record.queues }, startedAt: new Date(record.startedAt), heartbeatAt: new Date(record.heartbeatAt) }))
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  async remove(node: string): Promise<void> {
    this.nodes.delete(node);
  }

  private forgetExpired(now: Date): void {
    for (const [node, entry] of this.nodes) if (entry.until <= now.getTime()) this.nodes.delete(node);
  }
}
