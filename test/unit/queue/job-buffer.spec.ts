import { describe, expect, it } from 'vitest';
import { JobBuffer } from '../../../lib/queue/job.buffer.js';
import type { Job } from '../../../lib/store/job.types.js';

const at = new Date('2026-01-01T00:00:00Z');
const job = (id: number, priority = 0, runAt = at): Job<unknown> => ({ id: String(id), priority, runAt }) as Job<unknown>;
const ids = (jobs: readonly Job<unknown>[]): string[] => jobs.map((j) => j.id);
const drain = (buffer: JobBuffer): string[] => {
  const out: string[] = [];
  for (let next = buffer.shift(); next !== undefined; next = buffer.shift()) out.push(next.id);
  return out;
};

describe('JobBuffer', () => {
  it('hands jobs out in claim order: priority, then runAt, then id', () => {
    const buffer = new JobBuffer();
    buffer.add([job(3), job(10)]);
    buffer.add([job(2, 1), job(1, 0, new Date(at.getTime() + 1)), job(9)]);
    expect(buffer.size).toBe(5);
    expect(drain(buffer)).toEqual(['3', '9', '10', '1', '2']);
    expect(buffer.size).toBe(0);
    expect(buffer.shift()).toBeUndefined();
  });

  it('keeps size, listing, removal and priorities right after jobs left from the front', () => {
    const buffer = new JobBuffer();
    buffer.add([job(1), job(2), job(3, 4), job(4, 2)].sort((a, b) => a.priority - b.priority));
    expect(buffer.shift()?.id).toBe('1');
    expect(buffer.size).toBe(3);
    expect(buffer.worstPriority()).toBe(4);
    expect(buffer.remove('1')).toBeUndefined();
    expect(buffer.remove('3')?.id).toBe('3');
    expect(buffer.worstPriority()).toBe(2);
    expect(ids(buffer.jobs)).toEqual(['2', '4']);
    expect(buffer.shift()?.id).toBe('2');
    // An urgent job added behind a partly taken buffer goes to the front.
    buffer.add([job(5, 0)]);
    expect(ids(buffer.jobs)).toEqual(['5', '4']);
    expect(ids(buffer.clear())).toEqual(['5', '4']);
    expect(buffer.size).toBe(0);
    expect(buffer.worstPriority()).toBe(-1);
  });

  it('is reusable once emptied by shifting', () => {
    const buffer = new JobBuffer();
    buffer.add([job(1), job(2)]);
    expect(drain(buffer)).toEqual(['1', '2']);
    buffer.add([job(3)]);
    expect(buffer.size).toBe(1);
    expect(ids(buffer.jobs)).toEqual(['3']);
  });
});
