import { Logger } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { Leadership } from '../../../lib/composition/leadership.js';
import { SchedulerEvents } from '../../../lib/telemetry/scheduler.events.js';

describe('Leadership', () => {
  it('loads the planner one load at a time when the election and the sync both ask (a second load follows the first)', async () => {
    let active = 0;
    let most = 0;
    let loads = 0;
    const ends: (() => void)[] = [];
    const planner = {
      load: async () => {
        loads++;
        most = Math.max(most, ++active);
        await new Promise<void>((resolve) => ends.push(resolve));
        active--;
      },
      unload: () => undefined,
    };
    const leadership = new Leadership({
      planner,
      schedules: () => [],
      poke: () => undefined,
      events: new SchedulerEvents(),
      node: 'a',
      logger: new Logger('test'),
    });
    const elected = leadership.changed(true);
    const synced = leadership.loadPlanner();
    await new Promise((resolve) => setImmediate(resolve));
    expect([loads, active]).toEqual([1, 1]);
    ends.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect([loads, active]).toEqual([2, 1]);
    ends.shift()!();
    await Promise.all([elected, synced]);
    expect(most).toBe(1);
  });
});
