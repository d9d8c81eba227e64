import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../lib/common/json.js';
import { resolveJobOptions } from '../../../lib/discovery/job-options.resolver.js';
import { RuntimeSchedules } from '../../../lib/schedule/runtime-schedules.js';
import { SchedulerRegistry, type ScheduleEntry } from '../../../lib/scheduler.registry.js';
import type { StoredSchedule } from '../../../lib/store/job.types.js';

describe('RuntimeSchedules', () => {
  it('does not reload a schedule the store hands back with its keys reordered (as jsonb does)', async () => {
    const registry = new SchedulerRegistry();
    const options = resolveJobOptions(
      {},
      (option, detail) => {
        throw new Error(`${option}: ${detail}`);
      },
      null,
    );
    registry.addDefinition({ name: 'report', source: 'Test.report', kind: 'method', run: async () => null, options });
    let stored: StoredSchedule[] = [];
    const upserts: string[] = [];
    const schedules = new RuntimeSchedules({
      store: { listSchedules: async () => stored, getScheduleStates: async () => [], maxPayloadBytes: undefined },
      registry,
      planner: { upsert: async (entry: ScheduleEntry) => void upserts.push(entry.name), remove: () => undefined, setPaused: () => undefined },
      queueNames: null,
      poke: () => undefined,
      broadcast: async () => undefined,
    });
    await schedules.sync();
    const definition = { name: 'nightly', handler: 'report', every: '1h', args: { b: 1, a: { z: 2, y: [1, { d: 1, c: 2 }] } } };
    stored = [{ name: 'nightly', definition }];
    await schedules.sync(); // another node inserted it
    expect(upserts).toEqual(['nightly']);
    // The same definition, keys in the order PostgreSQL's jsonb returns them.
    stored = [{ name: 'nightly', definition: { args: { a: { y: [1, { c: 2, d: 1 }], z: 2 }, b: 1 }, name: 'nightly', every: '1h', handler: 'report' } }];
    await schedules.sync();
    expect(upserts).toEqual(['nightly']);
    // A real change is loaded.
    stored = [{ name: 'nightly', definition: { ...definition, every: '2h' } }];
    await schedules.sync();
    expect(upserts).toEqual(['nightly', 'nightly']);
  });

  it('canonicalJson sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [2, 1, { y: 1, x: 2 }], a: null })).toBe('{"a":null,"b":[2,1,{"x":2,"y":1}]}');
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });
});
