import { describe, expect, it } from 'vitest';
import { resolveJobOptions } from '../../../lib/discovery/job-options.resolver.js';
import type { MisfirePolicy, OverlapPolicy } from '../../../lib/decorators/job-options.js';
import { LocalNotifier } from '../../../lib/notifier/notifier.js';
import { Planner } from '../../../lib/planner/planner.js';
import { JobProducer } from '../../../lib/queue/job.producer.js';
import { QueueManager } from '../../../lib/queue/queue.manager.js';
import { compileSchedule, type ScheduleInput } from '../../../lib/schedule/schedule-spec.js';
import type { ScheduleEntry } from '../../../lib/scheduler.registry.js';
import type { JobStore } from '../../../lib/store/job-store.js';
import { MemoryStore } from '../../../lib/store/memory.store.js';
import { SchedulerEvents, type JobSkipEvent } from '../../../lib/telemetry/scheduler.events.js';
import { FakeClock } from '../../../lib/testing/index.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 1);

/** A schedule entry as discovery builds it, for a handler named after the schedule. */
function entry(name: string, schedule: ScheduleInput, options: { misfire?: MisfirePolicy; overlap?: OverlapPolicy } = {}): ScheduleEntry {
  const resolved = resolveJobOptions(
    options,
    (option, detail) => {
      throw new Error(`${option}: ${detail}`);
    },
    null,
  );
  const handler = { name, source: `Test.${name}`, kind: 'method' as const, run: async () => undefined, options: resolved };
  return { name, handler, spec: compileSchedule(schedule, name)!, options: resolved, origin: 'static', input: {} };
}

/** The planner with its real collaborators on a memory store; leadership is a flag the test flips. */
function setup(store: JobStore = new MemoryStore(), clock = new FakeClock(T0)) {
  const leader = { value: true };
  const events = new SchedulerEvents();
  const skips: JobSkipEvent[] = [];
  events.on('job:skip', (event) => skips.push(event));
  const producer = new JobProducer(store, new LocalNotifier(), new QueueManager(MIN, () => undefined), clock, 'node-a', events);
  const planner = new Planner({ store, producer, clock, events, misfireThreshold: MIN, isLeader: () => leader.value });
  return { planner, store, clock, leader, skips };
}

/** What a test reads from the store: the planned jobs, oldest first. */
async function planned(store: JobStore) {
  const jobs = await store.list({ order: 'asc' });
  return jobs.map((job) => ({ schedule: job.schedule, at: new Date(job.scheduledAt).toISOString(), misfired: job.misfired, tickKey: job.tickKey }));
}

async function plannedUntil(store: JobStore, name: string): Promise<number | undefined> {
  return (await store.getScheduleStates()).find((s) => s.name === name)?.plannedUntil?.getTime();
}

describe('Planner', () => {
  it('starts a schedule seen for the first time now, without backfill, and stores that progress', async () => {
    const { planner, store, clock } = setup();
    await clock.advance('30m');
    await planner.load([entry('hourly', { cron: '0 * * * *' })]);
    expect(planner.isLoaded).toBe(true);
    expect(await plannedUntil(store, 'hourly')).toBe(T0 + 30 * MIN);
    expect(planner.nextAt()).toBe(T0 + HOUR);
    await planner.run(clock.now());
    expect(await planned(store)).toEqual([]);
  });

  it('plans a due tick under its (schedule, tick) key and moves its progress to now', async () => {
    const { planner, store, clock } = setup();
    await planner.load([entry('hourly', { cron: '0 * * * *' })]);
    await clock.advanceTo(T0 + HOUR + 5_000);
    await planner.run(clock.now());
    expect(await planned(store)).toEqual([{ schedule: 'hourly', at: '2026-01-01T01:00:00.000Z', misfired: false, tickKey: 'hourly@2026-01-01T01:00:00.000Z' }]);
    expect(await plannedUntil(store, 'hourly')).toBe(T0 + HOUR + 5_000);
    expect(planner.nextAt()).toBe(T0 + 2 * HOUR);
  });

  it('runOnce: after a long outage the latest missed tick runs once, flagged as misfired', async () => {
    const store = new MemoryStore();
    await store.setScheduleState('hourly', { plannedUntil: new Date(T0) });
    const { planner, clock } = setup(store, new FakeClock(T0 + 5 * HOUR + 30 * MIN));
    await planner.load([entry('hourly', { cron: '0 * * * *' }, { misfire: 'runOnce' })]);
    expect(planner.nextAt()).toBe(T0 + HOUR);
    await planner.run(clock.now());
    expect(await planned(store)).toEqual([expect.objectContaining({ at: '2026-01-01T05:00:00.000Z', misfired: true })]);
  });

  it('skip: missed ticks are dropped, the next on-time one still runs', async () => {
    const store = new MemoryStore();
    await store.setScheduleState('hourly', { plannedUntil: new Date(T0) });
    const { planner, clock } = setup(store, new FakeClock(T0 + 5 * HOUR + 30 * MIN));
    await planner.load([entry('hourly', { cron: '0 * * * *' }, { misfire: 'skip' })]);
    await planner.run(clock.now());
    expect(await planned(store)).toEqual([]);
    expect(await plannedUntil(store, 'hourly')).toBe(clock.now());
    await clock.advanceTo(T0 + 6 * HOUR);
    await planner.run(clock.now());
    expect(await planned(store)).toEqual([expect.objectContaining({ at: '2026-01-01T06:00:00.000Z', misfired: false })]);
  });

  it('catchUp: every missed tick within the window, oldest first', async () => {
    const store = new MemoryStore();
    await store.setScheduleState('hourly', { plannedUntil: new Date(T0) });
    const { planner, clock } = setup(store, new FakeClock(T0 + 5 * HOUR + 30 * MIN));
    await planner.load([entry('hourly', { cron: '0 * * * *' }, { misfire: { catchUp: '3h' } })]);
    await planner.run(clock.now());
    expect((await planned(store)).map((j) => `${j.at.slice(11, 16)}${j.misfired ? '*' : ''}`)).toEqual(['03:00*', '04:00*', '05:00*']);
  });

  it('plans nothing while this node is not the leader, and picks up from its stored progress when it leads again', async () => {
    const { planner, store, clock, leader } = setup();
    await planner.load([entry('minutely', { every: '1m' }, { misfire: { catchUp: '1h' } })]);
    leader.value = false;
    expect(planner.nextAt()).toBeNull();
    await clock.advance('3m');
    await planner.run(clock.now());
    expect(await planned(store)).toEqual([]);
    expect(await plannedUntil(store, 'minutely')).toBe(T0);

    leader.value = true;
    expect(planner.nextAt()).toBe(T0 + MIN);
    await planner.run(clock.now());
    expect((await planned(store)).map((j) => j.at.slice(11, 16))).toEqual(['00:01', '00:02', '00:03']);
  });

  it('stops in the middle of a round when leadership is lost', async () => {
    const { planner, store, clock, leader } = setup();
    await planner.load([entry('a', { every: '1m' }), entry('b', { every: '1m' })]);
    await clock.advance('1m');
    // Lost while the first schedule's ticks are inserted: the second is not planned.
    const insert = store.insert.bind(store);
    store.insert = async (...args) => {
      leader.value = false;
      return insert(...args);
    };
    await planner.run(clock.now());
    expect((await planned(store)).map((j) => j.schedule)).toHaveLength(1);
  });

  it('a new leader does not plan a tick twice (the store keeps the tick key unique)', async () => {
    const store = new MemoryStore();
    const first = setup(store);
    await first.planner.load([entry('minutely', { every: '1m' }, { overlap: 'skip' })]);
    await first.clock.advance('1m');
    await first.planner.run(first.clock.now());
    // The old leader's progress write was lost: the new leader plans the same tick again.
    await store.setScheduleState('minutely', { plannedUntil: new Date(T0) });
    const second = setup(store, new FakeClock(T0 + MIN));
    await second.planner.load([entry('minutely', { every: '1m' }, { overlap: 'skip' })]);
    await second.planner.run(second.clock.now());
    expect(await planned(store)).toHaveLength(1);
    expect(second.skips).toEqual([]);
  });

  it('overlap skip: a tick whose previous run is still queued is reported as skipped', async () => {
    const { planner, store, clock, skips } = setup();
    await planner.load([entry('minutely', { every: '1m' }, { overlap: 'skip' })]);
    await clock.advance('1m');
    await planner.run(clock.now());
    await clock.advance('1m');
    await planner.run(clock.now());
    expect(await planned(store)).toHaveLength(1);
    expect(skips).toEqual([expect.objectContaining({ schedule: 'minutely', reason: 'overlap', tick: new Date(T0 + 2 * MIN) })]);
    expect(skips[0]!.job?.scheduledAt).toEqual(new Date(T0 + MIN));
  });

  it('a paused schedule inserts nothing, reports each tick as skipped and still moves on', async () => {
    const { planner, store, clock, skips } = setup();
    await planner.load([entry('minutely', { every: '1m' })]);
    planner.setPaused('minutely', true);
    await clock.advance('1m');
    await planner.run(clock.now());
    await clock.advance('1m');
    await planner.run(clock.now());
    expect(await planned(store)).toEqual([]);
    expect(skips.map((s) => [s.reason, s.tick?.toISOString().slice(11, 16)])).toEqual([
      ['paused', '00:01'],
      ['paused', '00:02'],
    ]);
    planner.setPaused('minutely', false);
    await clock.advance('1m');
    await planner.run(clock.now());
    expect((await planned(store)).map((j) => j.at.slice(11, 16))).toEqual(['00:03']);
  });

  it('reads a stored pause flag on load', async () => {
    const store = new MemoryStore();
    await store.setScheduleState('minutely', { plannedUntil: new Date(T0), paused: true });
    const { planner, clock, skips } = setup(store);
    await planner.load([entry('minutely', { every: '1m' })]);
    await clock.advance('1m');
    await planner.run(clock.now());
    expect(await planned(store)).toEqual([]);
    expect(skips.map((s) => s.reason)).toEqual(['paused']);
  });

  it('a failed round is retried a second later without losing its ticks', async () => {
    const { planner, store, clock } = setup();
    await planner.load([entry('minutely', { every: '1m' })]);
    await clock.advance('1m');
    const insert = store.insert.bind(store);
    store.insert = () => Promise.reject(new Error('store down'));
    await planner.run(clock.now());
    expect(planner.nextAt()).toBe(T0 + MIN + 1_000);
    expect(await plannedUntil(store, 'minutely')).toBe(T0);

    store.insert = insert;
    await clock.advance('1s');
    await planner.run(clock.now());
    expect((await planned(store)).map((j) => j.at.slice(11, 19))).toEqual(['00:01:00']);
  });

  it('a removed schedule is no longer planned; a replaced one keeps its progress', async () => {
    const { planner, store, clock } = setup();
    await planner.load([entry('a', { every: '1m' }), entry('b', { every: '1h' })]);
    planner.remove('b');
    await clock.advance('30s');
    await planner.upsert(entry('a', { every: '10m' }));
    expect(planner.nextAt()).toBe(T0 + 10 * MIN);
    await clock.advanceTo(T0 + 10 * MIN);
    await planner.run(clock.now());
    expect(new Set((await planned(store)).map((j) => j.schedule))).toEqual(new Set(['a']));
    expect((await planned(store))[0]!.at.slice(11, 16)).toBe('00:10');
  });

  it('a schedule inserted or removed while a load reads the store is planned (or dropped) once the load ends', async () => {
    const store = new MemoryStore();
    const { planner, clock } = setup(store);
    // Holds the load inside its read of the stored states.
    let release: () => void = () => undefined;
    const read = store.getScheduleStates.bind(store);
    store.getScheduleStates = () => new Promise((resolve) => (release = () => void read().then(resolve)));
    const loading = planner.load([entry('static', { every: '1h' }), entry('gone', { every: '1m' })]);
    await planner.upsert(entry('inserted', { every: '1m' }));
    planner.remove('gone');
    release();
    await loading;
    store.getScheduleStates = read;
    await clock.advanceTo(T0 + MIN);
    await planner.run(clock.now());
    expect((await planned(store)).map((j) => j.schedule)).toEqual(['inserted']);
  });

  it('unload forgets every schedule: nothing is due until the next load', async () => {
    const { planner, clock } = setup();
    await planner.load([entry('minutely', { every: '1m' })]);
    planner.unload();
    expect(planner.isLoaded).toBe(false);
    expect(planner.nextAt()).toBeNull();
    await planner.upsert(entry('other', { every: '1m' }));
    await clock.advance('1m');
    expect(planner.nextAt()).toBeNull();
  });

  it('a load that leadership was lost during (an unload) leaves the planner unloaded, planning nothing', async () => {
    // The store's read of the schedule states is answered once the test lets it.
    class LateStates extends MemoryStore {
      answer: (() => void) | null = null;
      override async getScheduleStates() {
        const states = await super.getScheduleStates();
        await new Promise<void>((resolve) => (this.answer = resolve));
        return states;
      }
    }
    const store = new LateStates();
    const { planner } = setup(store);
    const loading = planner.load([entry('hourly', { cron: '0 * * * *' })]);
    await new Promise((resolve) => setImmediate(resolve));
    planner.unload();
    store.answer!();
    await loading;
    expect(planner.isLoaded).toBe(false);
    expect(planner.nextAt()).toBeNull();
  });
});
