import { describe, expect, it } from 'vitest';
import { insertBatch } from '../../../lib/postgres/job-input.js';
import { InvalidArgumentError, PayloadTooLargeError } from '../../../lib/scheduler.errors.js';
import type { NewJob } from '../../../lib/store/job.types.js';
import { newJobInput } from '../../support/new-job.js';

const AT = new Date('2026-01-01T00:00:00.000Z');
const job = (overrides: Partial<NewJob> = {}): NewJob => newJobInput(AT, overrides);

describe("insertBatch (the PostgreSQL insert statement's input)", () => {
  it('sends the fields jobs share once, and per job only its args and unique key (with its states mask, period and time)', () => {
    const meta = { team: 'core' };
    const batch = insertBatch(
      [
        job({ args: { n: 1 }, meta, tags: ['a'] }),
        job({ args: { n: 2 }, meta: { team: 'core' }, tags: ['a'], runAt: new Date(AT.getTime()), uniqueKey: 'k"1' }),
        job({ args: { n: 3 }, meta, tags: ['a'], uniqueKey: 'p', uniqueStates: ['running', 'completed'], uniquePeriod: 60_000 }),
      ],
      1024,
      AT,
    );
    expect(batch.items.map((item) => JSON.parse(item))).toEqual([
      { a: { n: 1 } },
      { a: { n: 2 }, u: 'k"1', m: 7, p: null, t: AT.toISOString() },
      { a: { n: 3 }, u: 'p', m: 12, p: 60_000, t: AT.toISOString() },
    ]);
    expect(batch.shared).toEqual({
      name: 'work',
      schedule: null,
      queue: 'default',
      priority: 5,
      max_attempts: 3,
      timeout_ms: null,
      run_at: AT.toISOString(),
      scheduled_at: AT.toISOString(),
      misfired: false,
      tick_key: null,
      serial_key: null,
      pinned_node: null,
      tags: ['a'],
      meta: '{"team":"core"}',
      trace: null,
      preemptible: null,
    });
  });

  it('sends every column of every job when any other field differs', () => {
    for (const overrides of [
      { priority: 1 },
      { runAt: new Date(AT.getTime() + 1) },
      { tags: ['x'] },
      { meta: { other: true } },
      { serialKey: 's' },
      { preemptible: false as const },
    ]) {
      const batch = insertBatch([job({ args: { n: 1 } }), job({ args: { n: 2 }, ...overrides })], 1024);
      expect(batch.shared).toBeNull();
      const records = batch.items.map((item) => JSON.parse(item) as Record<string, unknown>);
      expect(records.map((r) => r.args)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(records[1]).toMatchObject({ name: 'work', queue: 'default', unique_key: null });
    }
    const [, keyed] = insertBatch([job(), job({ priority: 1, uniqueKey: 'u', uniqueStates: ['scheduled'] })], 1024).items.map((item) => JSON.parse(item));
    expect(keyed).toMatchObject({ unique_key: 'u', unique_states: 1, unique_period: null, unique_since: null });
  });

  it('checks every job in either form, with typed errors', () => {
    const big = { s: 'x'.repeat(2_000) };
    expect(() => insertBatch([job(), job({ args: big })], 1024)).toThrow(PayloadTooLargeError);
    expect(() => insertBatch([job(), job({ args: big, name: 'other' })], 1024)).toThrow(PayloadTooLargeError);
    expect(() => insertBatch([job(), job({ uniqueKey: 'a\u0000' })], 1024)).toThrow(InvalidArgumentError);
    expect(() => insertBatch([job({ runAt: new Date(Number.NaN) })], 1024)).toThrow(InvalidArgumentError);
    expect(() => insertBatch([job(), job({ priority: 1.5 })], 1024)).toThrow(InvalidArgumentError);
    expect(() => insertBatch([job({ priority: 40_000 })], 1024)).toThrow(InvalidArgumentError);
  });

  it('is empty for no jobs', () => {
    expect(insertBatch([], 1024)).toEqual({ shared: null, items: [] });
  });
});
