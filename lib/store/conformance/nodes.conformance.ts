import type { NodeRegistry } from '../node-registry.js';
import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: the node registry (`JobStore.nodes`): beats renew a node,
 * a node is live until its time runs out or it is removed, and what a beat
 * said is read back as it was. A store without `nodes` passes trivially.
 * @internal
 */
export function nodesConformance(suite: ConformanceSuite): void {
  const { at, ms, SEC, describe, it, expect } = suite;
  const registry = (): NodeRegistry | null => suite.store.nodes ?? null;
  const beat = (node: string, queues: Record<string, number> = {}, version: string | null = '1.2.3') => ({
    node,
    version,
    queues,
    startedAt: at(0),
  });

  describe('node registry', () => {
    it('lists the nodes that beat, by name, with what they said and their last beat', async () => {
      const nodes = registry();
      if (!nodes) return;
      expect(await nodes.list(at(0))).toEqual([]);
      await nodes.beat(beat('node-b', { default: 10, mail: 2 }), at(0), 30 * SEC);
      await nodes.beat(beat('node-a', {}, null), at(1 * SEC), 30 * SEC);
      await nodes.beat(beat('node-b', { default: 4 }), at(2 * SEC), 30 * SEC);
      const listed = await nodes.list(at(3 * SEC));
      expect(listed.map((n) => n.node)).toEqual(['node-a', 'node-b']);
      expect(listed[0]).toMatchObject({ node: 'node-a', version: null, queues: {} });
      expect(listed[1]).toMatchObject({ node: 'node-b', version: '1.2.3', queues: { default: 4 } });
      expect(ms(listed[1]!.heartbeatAt)).toBe(ms(at(2 * SEC)));
      expect(ms(listed[1]!.startedAt)).toBe(ms(at(0)));
    });

    it('drops a node once its ttl ran out since its last beat, and one removed at once', async () => {
      const nodes = registry();
      if (!nodes) return;
      await nodes.beat(beat('node-a'), at(0), 10 * SEC);
      await nodes.beat(beat('node-b'), at(0), 10 * SEC);
      await nodes.beat(beat('node-b'), at(8 * SEC), 10 * SEC);
      expect((await nodes.list(at(9 * SEC))).map((n) => n.node)).toEqual(['node-a', 'node-b']);
      expect((await nodes.list(at(12 * SEC))).map((n) => n.node)).toEqual(['node-b']);
      await nodes.remove('node-b');
      await nodes.remove('node-unknown');
      expect(await nodes.list(at(12 * SEC))).toEqual([]);
      // A node that beats again after it expired is live again.
      await nodes.beat(beat('node-a'), at(20 * SEC), 10 * SEC);
      expect((await nodes.list(at(21 * SEC))).map((n) => n.node)).toEqual(['node-a']);
    });
  });
}
