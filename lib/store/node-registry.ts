/**
 * What a node says of itself at each of its beats.
 * @publicApi
 */
export interface NodeBeat {
  /** The node's name (`nodeName`). */
  node: string;
  /** The package version it runs, `null` when unknown. */
  version: string | null;
  /** The queues it runs, each with its concurrency there (`{}` for a node that runs none). */
  queues: Record<string, number>;
  /** When it started. */
  startedAt: Date;
}

/**
 * A live node, as its last beat left it.
 * @publicApi
 */
export interface NodeRecord extends NodeBeat {
  /** When it last beat. */
  heartbeatAt: Date;
}

/**
 * The nodes that share a store: each node beats every few seconds, and is
 * live until `ttl` after its last beat (or until it stops cleanly). What the
 * dashboard's `GET api/nodes` and `scheduler.nodes()` read; nothing in the
 * job's path depends on it (rescue still goes by each job's heartbeat).
 * Times are the callers' (`now`), like every other store call.
 * @publicApi
 */
export interface NodeRegistry {
  /** Records (or renews) a node, live until `now + ttlMs`; forgets nodes whose time ran out. */
  beat(beat: NodeBeat, now: Date, ttlMs: number): Promise<void>;
  /** The nodes live at `now`, by name. */
  list(now: Date): Promise<NodeRecord[]>;
  /** Forgets a node (its clean stop). Forgetting an unknown node does nothing. */
  remove(node: string): Promise<void>;
}
