import { describe, expect, it } from 'vitest';
import { decodeJob, decodeJobJson, encodeNewJob } from '../../../lib/redis/redis.codec.js';
import type { NewJob } from '../../../lib/store/job.types.js';

const runAt = new Date('2026-12-06T00:00:00.000Z');
const newJob: NewJob = { name: 'send', queue: 'default', args: { to: 'a' }, priority: 0, maxAttempts: 3, timeout: null, runAt };

/** A job hash as the insert script leaves it, field by field. */
const hash = (extra: Record<string, string>): Record<string, string> => ({
  id: '7',
  name: 'send',
  queue: 'default',
  args: '{"to":"a"}',
  state: 'available',
  priority: '0',
  attempt: '0',
  maxAttempts: '3',
  runAt: String(runAt.getTime()),
  scheduledAt: String(runAt.getTime()),
  insertedAt: String(runAt.getTime()),
  ...extra,
});

describe('Redis job hashes', () => {
  it('reads a hash without tags, meta, misfired or fencing token as those defaults, the same as one that holds them', () => {
    const full = hash({ tags: '[]', meta: '{}', misfired: '0', fencingToken: '0' });
    const bare = hash({});
    const expected = { tags: [], meta: {}, misfired: false, fencingToken: 0 };
    expect(decodeJobJson(JSON.stringify(bare))).toMatchObject(expected);
    expect(decodeJobJson(JSON.stringify(bare))).toEqual(decodeJobJson(JSON.stringify(full)));
    expect(decodeJob(Object.entries(bare).flat())).toEqual(decodeJob(Object.entries(full).flat()));
  });

  it('writes tags, meta and misfired only when they are not their defaults (no tags, empty meta, false)', () => {
    for (const job of [newJob, { ...newJob, tags: [] }]) {
      const plain = JSON.parse(encodeNewJob(job, { args: '{"to":"a"}', meta: '{}' }, null)) as Record<string, unknown>;
      for (const field of ['tags', 'meta', 'misfired']) expect(plain).not.toHaveProperty(field);
    }
    const misfired = JSON.parse(encodeNewJob({ ...newJob, misfired: true, tags: ['x'] }, { args: '{}', meta: '{"k":1}' }, null)) as Record<string, unknown>;
    expect(misfired).toMatchObject({ misfired: true, tags: '["x"]', meta: '{"k":1}' });
  });
});
