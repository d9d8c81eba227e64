import type { ConformanceSuite } from './suite.js';

/**
 * Conformance: stored schedules, schedule states and queue states.
 * @internal
 */
export function schedulesConformance(suite: ConformanceSuite): void {
  const { BASE, at, ms, SEC, describe, it, expect } = suite;

  describe('schedules and states', () => {
    it('saves, replaces, lists and deletes stored schedules', async () => {
      expect(await suite.store.listSchedules()).toEqual([]);
      const definition = { cron: '0 * * * *', job: { args: { n: [1] } } };
      await suite.store.saveSchedule({ name: 'hourly', definition });
      await suite.store.saveSchedule({ name: 'daily', definition: { cron: '0 0 * * *' } });
      definition.job.args.n.push(2);
      const listed = await suite.store.listSchedules();
      expect([...listed].sort((x, y) => x.name.localeCompare(y.name))).toEqual([
        { name: 'daily', definition: { cron: '0 0 * * *' } },
        { name: 'hourly', definition: { cron: '0 * * * *', job: { args: { n: [1] } } } },
      ]);
      listed[0]!.definition.mutated = true;

      await suite.store.saveSchedule({ name: 'hourly', definition: { every: 60_000 } });
      const replaced = await suite.store.listSchedules();
      expect(replaced).toHaveLength(2);
      expect(replaced.find((s) => s.name === 'hourly')!.definition).toEqual({ every: 60_000 });
      expect(replaced.find((s) => s.name === 'daily')!.definition).toEqual({ cron: '0 0 * * *' });

      expect(await suite.store.deleteSchedule('hourly')).toBe(true);
      expect(await suite.store.deleteSchedule('hourly')).toBe(false);
      expect((await suite.store.listSchedules()).map((s) => s.name)).toEqual(['daily']);
    });

    it('upserts schedule states with defaults and merges patches', async () => {
      expect(await suite.store.getScheduleStates()).toEqual([]);
      await suite.store.setScheduleState('nightly', { paused: true });
      expect(await suite.store.getScheduleStates()).toEqual([{ name: 'nightly', paused: true, plannedUntil: null }]);
      await suite.store.setScheduleState('nightly', { plannedUntil: at(3_600 * SEC) });
      await suite.store.setScheduleState('hourly', { plannedUntil: at(60 * SEC) });
      const states = await suite.store.getScheduleStates();
      const nightly = states.find((s) => s.name === 'nightly')!;
      expect(nightly.paused).toBe(true);
      expect(ms(nightly.plannedUntil)).toBe(at(3_600 * SEC).getTime());
      const hourly = states.find((s) => s.name === 'hourly')!;
      expect(hourly.paused).toBe(false);
      expect(ms(hourly.plannedUntil)).toBe(at(60 * SEC).getTime());

      await suite.store.setScheduleState('nightly', { paused: false, plannedUntil: null });
      expect((await suite.store.getScheduleStates()).find((s) => s.name === 'nightly')).toEqual({
        name: 'nightly',
        paused: false,
        plannedUntil: null,
      });
    });

    it("deletes a schedule's state with the schedule", async () => {
      await suite.store.saveSchedule({ name: 'nightly', definition: { cron: '0 0 * * *' } });
      await suite.store.setScheduleState('nightly', { paused: true, plannedUntil: BASE });
      await suite.store.setScheduleState('other', { paused: true });
      expect(await suite.store.deleteSchedule('nightly')).toBe(true);
      expect((await suite.store.getScheduleStates()).map((s) => s.name)).toEqual(['other']);
    });

    it('upserts queue states with defaults and merges patches', async () => {
      expect(await suite.store.getQueueStates()).toEqual([]);
      await suite.store.setQueueState('mail', { concurrency: 4 });
      expect(await suite.store.getQueueStates()).toEqual([{ name: 'mail', paused: false, concurrency: 4 }]);
      await suite.store.setQueueState('mail', { paused: true });
      await suite.store.setQueueState('reports', { paused: true });
      const states = await suite.store.getQueueStates();
      expect(states.find((s) => s.name === 'mail')).toEqual({ name: 'mail', paused: true, concurrency: 4 });
      expect(states.find((s) => s.name === 'reports')).toEqual({ name: 'reports', paused: true, concurrency: null });
      await suite.store.setQueueState('mail', { concurrency: null });
      expect((await suite.store.getQueueStates()).find((s) => s.name === 'mail')).toEqual({
        name: 'mail',
        paused: true,
        concurrency: null,
      });
    });

    it('answers ping', async () => {
      await expect(suite.store.ping()).resolves.toBeUndefined();
    });
  });
}
