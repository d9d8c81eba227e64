import { describe, expect, it } from 'vitest';
import { jobRecord, type JobRecord } from '../../../../lib/store/memory/claim-index.js';
import { storedJob } from '../../../../lib/store/memory/job-records.js';
import { LiveIndex } from '../../../../lib/store/memory/live-index.js';
import { newJobInput } from '../../../support/new-job.js';

const AT = new Date('2026-03-01T12:00:00.000Z');
const record = (seq: number): JobRecord => jobRecord(storedJob(String(seq), newJobInput(AT), AT), seq);

/** A small deterministic generator (no Math.random: a failure must replay). */
function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe('LiveIndex', () => {
  it('finds what was added, and nothing for numbers no record has', () => {
    const index = new LiveIndex();
    const recs = [1, 2, 3, 1025, 2049].map(record);
    for (const rec of recs) index.add(rec);
    for (const rec of recs) expect(index.get(rec.seq)).toBe(rec);
    expect(index.get(4)).toBeUndefined();
    expect(index.get(Number.NaN)).toBeUndefined();
    expect(index.get(0)).toBeUndefined();
    expect(index.size).toBe(5);
  });

  it('keeps every colliding record reachable when one before it in the probe is removed', () => {
    const index = new LiveIndex();
    // 1, 1025, 2049 and 3073 share a home slot in 1024 slots; 2 lands among them.
    const recs = [1, 1025, 2, 2049, 3073].map(record);
    for (const rec of recs) index.add(rec);
    index.remove(recs[1]);
    index.remove(recs[0]);
    expect(index.get(1025)).toBeUndefined();
    expect(index.get(1)).toBeUndefined();
    for (const rec of [recs[2], recs[3], recs[4]]) expect(index.get(rec.seq)).toBe(rec);
    index.remove(recs[1]);
    expect(index.size).toBe(3);
  });

  it('agrees with a Map through growth, shrinking and wrap-around, in random order', () => {
    const index = new LiveIndex();
    const model = new Map<number, JobRecord>();
    const random = lcg(7);
    let next = 1;
    for (let step = 0; step < 60_000; step++) {
      // Grow to ~20k records, then drain to a few, so the table doubles and halves.
      const adding = step < 30_000 ? random() < 0.7 : random() < 0.3;
      if (adding) {
        // Mostly increasing numbers, sometimes one far away (a resurrected job).
        const seq = random() < 0.05 ? 1 + Math.floor(random() * next) : next++;
        if (model.has(seq)) continue;
        const rec = record(seq);
        model.set(seq, rec);
        index.add(rec);
      } else if (model.size > 0) {
        // One of the oldest 50: jobs mostly finish near the order they were queued in.
        let skip = Math.floor(random() * Math.min(model.size, 50));
        let seq = 0;
        for (seq of model.keys()) if (skip-- === 0) break;
        index.remove(model.get(seq)!);
        model.delete(seq);
      }
      if (step % 997 === 0) for (const [seq, rec] of model) expect(index.get(seq)).toBe(rec);
    }
    expect(index.size).toBe(model.size);
    for (const [seq, rec] of model) expect(index.get(seq)).toBe(rec);
    for (let seq = 1; seq < next; seq++) if (!model.has(seq)) expect(index.get(seq)).toBeUndefined();
  });
});
