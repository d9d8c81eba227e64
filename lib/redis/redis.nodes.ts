import type { NodeBeat, NodeRecord, NodeRegistry } from '../store/node-registry.js';
import type { RedisConnection } from './redis.client.js';

interface StoredNode {
  version: string | null;
  queues: Record<string, number>;
  startedAt: number;
  heartbeatAt: number;
  /** Epoch ms after which the node is no longer live. */
  expiresAt: number;
}

// One script, so that a node's fresh beat is never deleted as expired by another's sweep read before it.
const BEAT = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] and cjson.decode(all[i + 1]).expiresAt <= tonumber(ARGV[3]) then redis.call('HDEL', KEYS[1], all[i]) end
end
return 1`;

/**
 * The node registry of a Redis store: one JSON record per node in the hash
 * `nodes`, judged live by the callers' time (as every other call is). Each
 * beat also deletes the records whose time ran out.
 * @internal
 */
export class RedisNodes implements NodeRegistry {
  constructor(private readonly redis: RedisConnection) {}

  private get key(): string {
    return `${this.redis.base}nodes`;
  }

  async beat(beat: NodeBeat, now: Date, ttlMs: number): Promise<void> {
    const at = now.getTime();
    const stored: StoredNode = { version: beat.version, queues: beat.queues, startedAt: beat.startedAt.getTime(), heartbeatAt: at, expiresAt: at + ttlMs };
    await this.redis.client.eval(BEAT, 1, this.key, beat.node, JSON.stringify(stored), at);
  }

  async list(now: Date): Promise<NodeRecord[]> {
    const all = await this.redis.client.hgetall(this.key);
    return Object.entries(all)
      .map(([node, text]) => ({ node, stored: JSON.parse(text) as StoredNode }))
      .filter(({ stored }) => stored.expiresAt > now.getTime())
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
      .map(({ node, stored }) => ({
        node,
        version: stored.version,
        queues: stored.queues,
        startedAt: new Date(stored.startedAt),
        heartbeatAt: new Date(stored.heartbeatAt),
      }));
  }

  async remove(node: string): Promise<void> {
    await this.redis.client.hdel(this.key, node);
  }
}
