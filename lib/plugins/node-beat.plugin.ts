import { Logger } from '@nestjs/common';
import type { LoopTask } from '../planner/scheduler.loop.js';
import type { NodeRegistry } from '../store/node-registry.js';
import type { SchedulerPlugin } from './scheduler.plugin.js';
import type { StoreContact } from './store-contact.js';

/**
 * What the node beat uses.
 * @internal
 */
export interface NodeBeatPorts {
  /** The store's registry; without one there is nothing to beat into. */
  registry: NodeRegistry | undefined;
  node: string;
  version: string;
  /** ms between two beats (the attempts' heartbeat interval). */
  interval: number;
  /** How long a beat keeps the node live, in ms (`rescueAfter`: as long as its jobs are safe from rescue). */
  ttl: number;
  /** The queues this node runs now, with their concurrency. */
  queues(): Record<string, number>;
  /** Told whether each beat reached the store (the lifeline holds rescue back after an outage). @default none */
  contact?: Pick<StoreContact, 'watch'>;
}

/**
 * Every node records itself in the store's node registry: at once when the
 * loop starts, then every `interval`; a clean stop removes it. Only what the
 * cluster can see of its nodes (the dashboard's `GET api/nodes`) depends on
 * it, so a failed beat is logged once per failing stretch and never stops
 * anything else, and a slow one is not waited for: the loop's other tasks
 * (schedule ticks, polls) go on while it is under way (on SQLite with the
 * app's DataSource, a write waits for the app's open transaction).
 * @internal
 */
export class NodeBeatPlugin implements SchedulerPlugin {
  readonly name = 'nodes';
  private readonly logger = new Logger('Scheduler');
  private startedAt: Date | null = null;
  private next: number | null = null;
  private failing = false;
  /** The beat under way: the next one is skipped rather than queued behind it. */
  private inFlight: Promise<void> | null = null;

  constructor(private readonly ports: NodeBeatPorts) {}

  tasks(): LoopTask[] {
    const { registry, interval } = this.ports;
    if (!registry) return [];
    return [
      {
        name: 'nodes',
        nextAt: (now) => (this.next ??= now),
        run: (now) => {
          this.next = now + interval;
          this.inFlight ??= this.beat(registry, now).finally(() => (this.inFlight = null));
          return Promise.resolve();
        },
      },
    ];
  }

  async stop(): Promise<void> {
    if (!this.startedAt) return;
    // After the beat under way, which would otherwise record the node again.
    await this.inFlight;
    await this.ports.registry?.remove(this.ports.node).catch(() => undefined);
  }

  private async beat(registry: NodeRegistry, now: number): Promise<void> {
    const { node, version, ttl } = this.ports;
    const startedAt = (this.startedAt ??= new Date(now));
    try {
      const beat = () => registry.beat({ node, version, queues: this.ports.queues(), startedAt }, new Date(now), ttl);
      // The nodes' table answering says nothing of the jobs' (a lock, a lock_timeout on one table alone): only a beat
      // that fails or hangs tells the contact something; the lifeline's passes over the jobs are its answers.
      await (this.ports.contact ? this.ports.contact.watch(beat, false) : beat());
      if (this.failing) this.logger.log('this node is recorded among the nodes again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`recording this node among the nodes failed (retried every beat): ${(error as Error)?.message ?? String(error)}`);
      this.failing = true;
    }
  }
}
