import { describe, expect, it } from 'vitest';
import { NodeBeatPlugin } from '../../../lib/plugins/node-beat.plugin.js';
import type { NodeBeat, NodeRecord, NodeRegistry } from '../../../lib/store/node-registry.js';

/** A registry whose writes wait until the test lets them through (a store behind an open transaction, a slow network). */
class HeldRegistry implements NodeRegistry {
  readonly beats: NodeBeat[] = [];
  readonly removed: string[] = [];
  private readonly held: (() => void)[] = [];

  beat(beat: NodeBeat): Promise<void> {
    return new Promise((resolve) => this.held.push(() => (this.beats.push(beat), resolve())));
  }
  list(): Promise<NodeRecord[]> {
    return Promise.resolve([]);
  }
  remove(node: string): Promise<void> {
    this.removed.push(node);
    return Promise.resolve();
  }
  release(): void {
    for (const write of this.held.splice(0)) write();
  }
  get waiting(): number {
    return this.held.length;
  }
}

describe('NodeBeatPlugin', () => {
  it('does not hold the loop while a beat is under way, skips beats meanwhile, and removes the node after the last one', async () => {
    const registry = new HeldRegistry();
    const plugin = new NodeBeatPlugin({ registry, node: 'a', version: '1', interval: 10_000, ttl: 45_000, queues: () => ({ default: 10 }) });
    const [task] = plugin.tasks();
    expect(task!.nextAt(0)).toBe(0);
    // The loop's run returns while the write waits.
    await task!.run(0);
    expect(registry.waiting).toBe(1);
    expect(task!.nextAt(0)).toBe(10_000);
    // A beat due while the first is under way is not queued behind it.
    await task!.run(10_000);
    expect(registry.waiting).toBe(1);
    const stopping = plugin.stop();
    await Promise.resolve();
    expect(registry.removed).toEqual([]);
    registry.release();
    await stopping;
    expect(registry.beats).toEqual([{ node: 'a', version: '1', queues: { default: 10 }, startedAt: new Date(0) }]);
    expect(registry.removed).toEqual(['a']);
  });

  it('has no task without a registry', () => {
    expect(new NodeBeatPlugin({ registry: undefined, node: 'a', version: '1', interval: 1, ttl: 1, queues: () => ({}) }).tasks()).toEqual([]);
  });
});
