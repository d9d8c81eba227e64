import { describe, expect, it } from 'vitest';
import { RunningJobs, type RunningJob } from '../../../lib/execution/running-jobs.js';
import type { Job } from '../../../lib/store/job.types.js';

/** An attempt as the registry sees it: a job's id and queue, and its own label. */
function attempt(id: string, label = id, queue = 'q'): RunningJob & { label: string } {
  return {
    label,
    job: { id, queue } as Job<unknown>,
    started: 0,
    runningAt: -1,
    abort: () => undefined,
    done: Promise.resolve(),
    abortIgnored: false,
    holdsSlot: true,
    forceSettle: () => undefined,
  };
}
const labels = (entries: RunningJob[]) => entries.map((e) => (e as RunningJob & { label: string }).label);

describe('RunningJobs', () => {
  it('lists attempts in the order they were added, by queue, and finds each by job id', () => {
    const running = new RunningJobs();
    for (const [id, queue] of [
      ['1', 'a'],
      ['2', 'b'],
      ['3', 'a'],
    ])
      running.add(attempt(id, id, queue));
    expect(labels(running.all())).toEqual(['1', '2', '3']);
    expect(labels(running.all('a'))).toEqual(['1', '3']);
    expect(labels([running.get('2')!])).toEqual(['2']);
    expect(running.get('4')).toBeUndefined();
    expect(running.size).toBe(3);
  });

  it('keeps the newest attempt of a job in the older one’s place; removing the older one then changes nothing', () => {
    const running = new RunningJobs();
    const older = attempt('1', 'older');
    running.add(older);
    running.add(attempt('2'));
    const newer = attempt('1', 'newer');
    running.add(newer);
    expect(labels(running.all())).toEqual(['newer', '2']);
    running.remove('1', older);
    expect([labels(running.all()), running.size]).toEqual([['newer', '2'], 2]);
    running.remove('1', newer);
    expect([labels(running.all()), running.get('1'), running.size]).toEqual([['2'], undefined, 1]);
  });

  it('stays right through many adds and removes (holes compacted away), removing each attempt once', () => {
    const running = new RunningJobs();
    const live = new Map<string, RunningJob>();
    for (let i = 1; i <= 2_000; i++) {
      const entry = attempt(String(i));
      running.add(entry);
      live.set(entry.job.id, entry);
      // Ends attempts out of order: every third, the oldest; otherwise the second oldest.
      if (i % 2 === 0) {
        const ids = [...live.keys()];
        const id = i % 3 === 0 ? ids[0]! : ids[Math.min(1, ids.length - 1)]!;
        running.remove(id, live.get(id)!);
        running.remove(id, live.get(id)!);
        live.delete(id);
      }
    }
    expect(labels(running.all())).toEqual([...live.keys()]);
    for (const [id, entry] of live) expect(running.get(id)).toBe(entry);
    expect(running.size).toBe(live.size);
  });

  it('tells whoever awaits a job the next attempt of it added, once; of more than 1,000 waits the oldest lapse', () => {
    const running = new RunningJobs();
    const told: string[] = [];
    for (let i = 0; i <= 1_000; i++) running.whenAdded(String(i), (entry) => told.push(labels([entry])[0]!));
    running.add(attempt('0'));
    running.add(attempt('1', 'first'));
    running.add(attempt('1', 'second'));
    running.add(attempt('1000'));
    running.add(attempt('7'));
    expect(told).toEqual(['first', '1000', '7']);
  });
});
