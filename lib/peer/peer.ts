/**
 * Leadership: only the leader plans schedule ticks and runs plugins; every
 * node with queues runs jobs.
 * @publicApi
 */
export interface Peer {
  start(): Promise<void>;
  /** Gives leadership up (a clean shutdown lets another node take over at once). */
  stop(): Promise<void>;
  isLeader(): boolean;
  /** The leader's node name, or `null` when there is none. */
  leaderNode(): Promise<string | null>;
  /** Called with `true` when this node becomes leader and `false` when it stops being one. */
  onChange(listener: (leader: boolean) => void): void;
}

/**
 * A single process: the node is leader unless `peer: false`.
 * @publicApi
 */
export class LocalPeer implements Peer {
  private leader = false;
  private readonly listeners: ((leader: boolean) => void)[] = [];

  constructor(
    private readonly node: string,
    private readonly eligible: boolean,
  ) {}

  async start(): Promise<void> {
    if (this.eligible) this.set(true);
  }

  async stop(): Promise<void> {
    this.set(false);
  }

  isLeader(): boolean {
    return this.leader;
  }

  async leaderNode(): Promise<string | null> {
    return this.leader ? this.node : null;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  private set(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    for (const listener of this.listeners) listener(leader);
  }
}
