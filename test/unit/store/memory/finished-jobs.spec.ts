import { describe, expect, it } from 'vitest';
import type { JobState } from '../../../../lib/store/job.types.js';
import { FinishedJobs } from '../../../../lib/store/memory/finished-jobs.js';
import { storedJob } from '../../../../lib/store/memory/job-records.js';
import { newJobInput } from '../../../support/new-job.js';

const BASE = new Date('2026-03-01T12:00:00.000Z').getTime();

/** Adds job `seq`, finished `finishedMs` after BASE in `state`; returns its record. */
function add(list: FinishedJobs, seq: number, finishedMs: number, state: JobState = 'completed') {
  const job = storedJob(String(seq), newJobInput(new Date(BASE)), new Date(BASE));
  job.state = state;
  return list.add(job, seq, BASE + finishedMs);
}

const seqs = (list: Iterable<{ seq: number }>) => [...list].map((r) => r.seq);
const ALL: JobState[] = ['completed', 'dead', 'discarded', 'cancelled'];

describe('FinishedJobs', () => {
  it('lists by finish time then insertion, whatever order they finish in', () => {
    const list = new FinishedJobs();
    add(list, 1, 30);
    add(list, 2, 10);
    add(list, 5, 20);
    add(list, 3, 20);
    add(list, 4, 40);
    add(list, 6, 10);
    expect(seqs(list)).toEqual([2, 6, 3, 5, 1, 4]);
    expect(list.size).toBe(6);
  });

  it('finds the oldest in the given states finished strictly before a time, up to a limit', () => {
    const list = new FinishedJobs();
    add(list, 1, 10, 'dead');
    add(list, 2, 10);
    add(list, 3, 20, 'cancelled');
    add(list, 4, 30);
    add(list, 5, 40);
    expect(seqs(list.oldest(['completed'], BASE + 40, 10))).toEqual([2, 4]);
    expect(seqs(list.oldest(['completed', 'dead'], BASE + 40, 2))).toEqual([1, 2]);
    expect(seqs(list.oldest(ALL, BASE + 10, 10))).toEqual([]);
    expect(seqs(list.oldest(ALL, BASE + 100, 0))).toEqual([]);
    expect(seqs(list.oldest(['available'], BASE + 100, 10))).toEqual([]);
    expect(seqs(list.oldest(ALL, Number.NaN, 10))).toEqual([]);
  });

  it('skips removed records, from the front or anywhere, and removes each once', () => {
    const list = new FinishedJobs();
    const records = [1, 2, 3, 4, 5, 6].map((seq) => add(list, seq, seq * 10));
    list.remove(records[2]!);
    list.remove(records[0]!);
    list.remove(records[0]!);
    expect(seqs(list)).toEqual([2, 4, 5, 6]);
    expect(list.size).toBe(4);
    expect(seqs(list.oldest(ALL, BASE + 45, 10))).toEqual([2, 4]);
    add(list, 7, 35);
    expect(seqs(list)).toEqual([2, 7, 4, 5, 6]);
  });

  it('keeps order and each record removable across compactions', () => {
    const list = new FinishedJobs();
    const records = Array.from({ length: 1_000 }, (_, i) => add(list, i + 1, (i % 100) * 10));
    const expected = records
      .map((r) => r.seq)
      .sort((a, b) => ((a - 1) % 100) - ((b - 1) % 100) || a - b)
      .filter((seq) => seq % 3 !== 0);
    for (const record of records) if (record.seq % 3 === 0) list.remove(record);
    expect(seqs(list)).toEqual(expected);
    // Pruning from the front, as retention does, then removing what is left in the middle.
    const pruned = list.oldest(ALL, BASE + 800, 400);
    expect(seqs(pruned)).toEqual(expected.slice(0, 400));
    for (const record of pruned) list.remove(record);
    for (const record of records) if (record.seq % 3 === 1) list.remove(record);
    expect(seqs(list)).toEqual(expected.slice(400).filter((seq) => seq % 3 !== 1));
    expect(list.size).toBe(expected.slice(400).filter((seq) => seq % 3 !== 1).length);
    for (const record of records) list.remove(record);
    expect(list.size).toBe(0);
    add(list, 2_000, 5);
    expect(seqs(list)).toEqual([2_000]);
  });

  it('does not list a job with an invalid finish time (no prune reaches it)', () => {
    const list = new FinishedJobs();
    const job = storedJob('1', newJobInput(new Date(BASE)), new Date(BASE));
    job.state = 'completed';
    const record = list.add(job, 1, Number.NaN);
    expect(list.size).toBe(0);
    list.remove(record);
    expect(list.size).toBe(0);
  });
});
