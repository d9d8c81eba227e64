import { describe, expect, it } from 'vitest';
import { coalesced } from '../../../lib/common/coalesced.js';

/** A task whose runs the test ends one by one, in order; each fails when `failing` holds as it ends. */
function steppedTask() {
  const ends: (() => void)[] = [];
  let failing = false;
  let runs = 0;
  return {
    task: () => {
      runs++;
      return new Promise<void>((resolve, reject) => ends.push(() => (failing ? reject(new Error(`run ${runs} failed`)) : resolve())));
    },
    end: async (fail = false) => {
      failing = fail;
      ends.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    },
    get runs() {
      return runs;
    },
  };
}

describe('coalesced', () => {
  it('runs one at a time: calls made during a run ask for one more run, and settle with it', async () => {
    const t = steppedTask();
    const run = coalesced(t.task);
    const settled: string[] = [];
    void run().then(() => settled.push('first'));
    void run().then(() => settled.push('second'));
    void run().then(() => settled.push('third'));
    expect(t.runs).toBe(1);
    await t.end();
    expect([t.runs, settled]).toEqual([2, []]);
    await t.end();
    expect([t.runs, settled]).toEqual([2, ['first', 'second', 'third']]);
    void run();
    expect(t.runs).toBe(3);
    await t.end();
  });

  it('a failed run does not stop the one asked for meanwhile; the calls settle with the last run', async () => {
    const t = steppedTask();
    const run = coalesced(t.task);
    const first = run();
    const second = run();
    await t.end(true);
    expect(t.runs).toBe(2);
    await t.end(false);
    await expect(first).resolves.toBeUndefined();
    await expect(second).resolves.toBeUndefined();
    const alone = expect(run()).rejects.toThrow('run 3 failed');
    await t.end(true);
    await alone;
  });
});
