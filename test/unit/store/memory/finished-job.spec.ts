import { describe, expect, it } from 'vitest';
import type { Job } from '../../../../lib/store/job.types.js';
import { finishedJob, isFinished, jobOfFinished } from '../../../../lib/store/memory/finished-job.js';
import { finishedStrings, Interner } from '../../../../lib/store/memory/interner.js';
import { jobRecord } from '../../../../lib/store/memory/claim-index.js';
import { copyJob, pushError, storedJob } from '../../../../lib/store/memory/job-records.js';
import { newJobInput } from '../../../support/new-job.js';

const BASE = new Date('2026-03-01T12:00:00.000Z');
const at = (ms: number): Date => new Date(BASE.getTime() + ms);
const DAY = 86_400_000;

/** A stored job taken through a claim to a final state, as the memory store leaves it before compacting it. */
function finishedLive(overrides: Parameters<typeof newJobInput>[1] = {}, finishedAt = at(5_000)): Job {
  const job = storedJob('7', newJobInput(BASE, overrides), BASE);
  job.state = 'completed';
  job.attempt = 1;
  job.heartbeatAt = at(1_000);
  job.startedAt = job.heartbeatAt;
  job.node = 'node-a';
  job.fencingToken = 12;
  job.result = { ok: true };
  job.finishedAt = finishedAt;
  return job;
}

const compact = (job: Job) => finishedJob(job, 7, (job.finishedAt as Date).getTime(), finishedStrings());

describe('a finished job as the memory store keeps it', () => {
  it('reads back as the copy copyJob makes of the live job, Dates shared where copyJob shares them', () => {
    const live = finishedLive();
    const back = jobOfFinished(compact(live));
    expect(back).toEqual(copyJob(live));
    expect(Object.keys(back)).toEqual(Object.keys(copyJob(live)));
    expect(back.scheduledAt).toBe(back.runAt);
    expect(back.insertedAt).toBe(back.scheduledAt);
    expect(back.heartbeatAt).toBe(back.startedAt);
    expect(back.finishedAt).not.toBe(back.startedAt);
  });

  it('keeps every field of a job that uses them all: keys, tags, meta, errors, trace, distinct instants', () => {
    const live = finishedLive({
      schedule: 'nightly',
      tickKey: 'nightly:1',
      uniqueKey: 'u',
      serialKey: 's',
      pinnedNode: 'node-a',
      tags: ['a', 'b'],
      meta: { m: 1 },
      trace: { traceId: 't'.repeat(32), spanId: 's'.repeat(16), traceFlags: 1 },
      scheduledAt: at(-2_000),
      misfired: true,
      timeout: 30_000,
    });
    live.runAt = at(-1_000);
    live.heartbeatAt = at(4_000);
    pushError(live, { attempt: 1, at: at(2_000), name: 'TypeError', message: 'boom', stack: 'at x', kind: 'error' });
    pushError(live, { attempt: 1, at: at(3_000), name: 'TimeoutError', message: 'late', kind: 'timeout' });
    live.state = 'dead';
    const back = jobOfFinished(compact(live));
    expect(back).toEqual(copyJob(live));
    expect('stack' in back.errors[1]!).toBe(false);
    expect(Object.keys(back.errors[0]!)).toEqual(['attempt', 'at', 'name', 'message', 'stack', 'kind']);
  });

  it('keeps instants too far from the finish for a small integer, and an invalid finish time, exactly', () => {
    const delayed = finishedLive({}, at(40 * DAY));
    expect(jobOfFinished(compact(delayed))).toEqual(copyJob(delayed));
    expect(compact(delayed).runAtAgo).toBeNull();
    const invalid = finishedLive({}, new Date(Number.NaN));
    const back = jobOfFinished(finishedJob(invalid, 7, Number.NaN, finishedStrings()));
    expect(Number.isNaN(back.finishedAt!.getTime())).toBe(true);
    expect(back.runAt.getTime()).toBe(BASE.getTime());
    expect(back.startedAt!.getTime()).toBe(at(1_000).getTime());
  });

  it('hands out copies: changing one changes neither the record nor the next copy', () => {
    const record = compact(finishedLive({ tags: ['a'], meta: { m: [1] }, args: { a: { b: 1 } } }));
    const first = jobOfFinished(record);
    (first.args as { a: { b: number } }).a.b = 2;
    first.tags.push('x');
    (first.meta.m as number[]).push(2);
    (first.result as { ok: boolean }).ok = false;
    first.runAt.setTime(0);
    const second = jobOfFinished(record);
    expect(second.args).toEqual({ a: { b: 1 } });
    expect(second.tags).toEqual(['a']);
    expect(second.meta).toEqual({ m: [1] });
    expect(second.result).toEqual({ ok: true });
    expect(second.runAt).toEqual(BASE);
  });

  it('shares one frozen set of empty fields among jobs without keys, tags, meta, errors or trace', () => {
    const a = compact(finishedLive());
    const b = compact(finishedLive());
    expect(a.extras).toBe(b.extras);
    expect(Object.isFrozen(a.extras)).toBe(true);
    expect(compact(finishedLive({ tags: ['t'] })).extras).not.toBe(a.extras);
  });

  it('is told apart from a live record', () => {
    const live = finishedLive();
    expect(isFinished(compact(live))).toBe(true);
    expect(isFinished(jobRecord(live, 7))).toBe(false);
  });
});

describe('Interner', () => {
  it('answers the value it is given, past its bound too', () => {
    const strings = new Interner(2);
    const made = (s: string) => s.split('').join('');
    expect(['q1', 'q2', made('q1'), 'q3', made('q3'), 'q1', null].map((s) => strings.of(s))).toEqual(['q1', 'q2', 'q1', 'q3', 'q3', 'q1', null]);
  });
});
