import { describe, expect, it } from 'vitest';
import { createSchedulerMigrations } from '../../../lib/postgres/migrations/typeorm.migrations.js';
import { PREFIXED_NAMES, quoteIdent, validateIdentifier } from '../../../lib/postgres/identifiers.js';
import { channelName, openPostgres } from '../../../lib/postgres/postgres.connection.js';
import { SchedulerConfigError } from '../../../lib/scheduler.errors.js';
import type { PostgresStoreOptions } from '../../../lib/store/store-options.js';

const UNREACHABLE = 'postgres://postgres@127.0.0.1:1/none';
const HOSTILE = [
  'public; DROP TABLE x; --',
  'a"b',
  '"public"',
  "x'; DROP TABLE x; --",
  'a\u0000b',
  'a b',
  '1starts_with_digit',
  'sch-ema',
  'ümlaut',
  'a'.repeat(64),
];

/** A stand-in TypeORM DataSource whose pool records every statement sent to it. */
function recordingDataSource(): { dataSource: object; statements: unknown[] } {
  const statements: unknown[] = [];
  const record = (...args: unknown[]) => {
    statements.push(args);
    return Promise.reject(new Error('no SQL may run'));
  };
  const pool = { query: record, connect: record, on: () => pool, off: () => pool };
  return {
    statements,
    dataSource: { isInitialized: true, options: { type: 'postgres', url: UNREACHABLE }, driver: { master: pool } },
  };
}

describe('validateIdentifier', () => {
  it.each(HOSTILE)('rejects the schema %j', (value) => {
    expect(() => validateIdentifier('store.schema', value)).toThrow(SchedulerConfigError);
    expect(() => validateIdentifier('store.schema', value)).toThrow(/store\.schema/);
  });

  it.each(HOSTILE)('rejects the table prefix %j', (value) => {
    expect(() => validateIdentifier('store.tablePrefix', value, { allowEmpty: true })).toThrow(/store\.tablePrefix/);
  });

  it('rejects an empty schema, a non-string and reserved pg_ schemas', () => {
    expect(() => validateIdentifier('store.schema', '')).toThrow(SchedulerConfigError);
    expect(() => validateIdentifier('store.schema', 42)).toThrow(SchedulerConfigError);
    expect(() => validateIdentifier('store.schema', 'pg_catalog')).toThrow(/reserved/);
  });

  it('accepts an empty prefix only when allowed', () => {
    expect(validateIdentifier('store.tablePrefix', '', { allowEmpty: true })).toBe('');
    expect(() => validateIdentifier('store.tablePrefix', '')).toThrow(SchedulerConfigError);
  });

  it('measures the prefix against the longest name built from it', () => {
    const longest = Math.max(...PREFIXED_NAMES.map((name) => name.length));
    const fits = 'p'.repeat(63 - longest);
    expect(validateIdentifier('store.tablePrefix', fits)).toBe(fits);
    expect(() => validateIdentifier('store.tablePrefix', `${fits}p`)).toThrow(/63/);
  });

  it('accepts ordinary names, keeping their case', () => {
    expect(validateIdentifier('store.schema', 'public')).toBe('public');
    expect(validateIdentifier('store.schema', '_Jobs2')).toBe('_Jobs2');
    expect(validateIdentifier('store.schema', 's'.repeat(63))).toBe('s'.repeat(63));
    expect(validateIdentifier('store.tablePrefix', 'scheduler_')).toBe('scheduler_');
  });
});

describe('quoteIdent', () => {
  it('quotes and doubles inner quotes', () => {
    expect(quoteIdent('jobs')).toBe('"jobs"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteIdent('x"; DROP TABLE y; --')).toBe('"x""; DROP TABLE y; --"');
  });

  it('rejects NUL and empty names', () => {
    expect(() => quoteIdent('a\u0000b')).toThrow(SchedulerConfigError);
    expect(() => quoteIdent('')).toThrow(SchedulerConfigError);
  });
});

describe('openPostgres validates before any SQL', () => {
  const base: PostgresStoreOptions = { type: 'postgres', url: UNREACHABLE };

  it.each(HOSTILE)('rejects the schema %j without touching the database', async (schema) => {
    const { dataSource, statements } = recordingDataSource();
    await expect(openPostgres({ type: 'postgres', dataSource, schema }, 'n')).rejects.toMatchObject({
      name: 'SchedulerConfigError',
      option: 'store.schema',
    });
    await expect(openPostgres({ ...base, schema }, 'n')).rejects.toBeInstanceOf(SchedulerConfigError);
    expect(statements).toEqual([]);
  });

  it.each(HOSTILE)('rejects the table prefix %j without touching the database', async (tablePrefix) => {
    const { dataSource, statements } = recordingDataSource();
    await expect(openPostgres({ type: 'postgres', dataSource, tablePrefix }, 'n')).rejects.toMatchObject({ option: 'store.tablePrefix' });
    expect(statements).toEqual([]);
  });

  it('rejects an empty schema and takes an explicitly empty prefix', async () => {
    await expect(openPostgres({ ...base, schema: '' }, 'n')).rejects.toMatchObject({ option: 'store.schema' });
    const ctx = await openPostgres({ ...base, tablePrefix: '' }, 'n');
    expect(ctx.table('jobs')).toBe('"public"."jobs"');
    expect(ctx.channel).toMatch(/^public_events_[0-9a-f]{20}$/);
    await ctx.close();
  });

  it('does not connect: an unreachable url with good options opens fine', async () => {
    const ctx = await openPostgres({ ...base, schema: 'Jobs', tablePrefix: 'app_' }, 'node-1');
    expect(ctx).toMatchObject({ schema: 'Jobs', prefix: 'app_', channel: channelName('Jobs', 'app_'), node: 'node-1' });
    expect(ctx.channel).toMatch(/^Jobs_app_events_[0-9a-f]{20}$/);
    expect(ctx.table('jobs')).toBe('"Jobs"."app_jobs"');
    await ctx.close();
  });

  it('needs exactly one of url and dataSource, and a usable DataSource', async () => {
    const { dataSource } = recordingDataSource();
    await expect(openPostgres({ type: 'postgres' }, 'n')).rejects.toMatchObject({ option: 'store.url' });
    await expect(openPostgres({ ...base, dataSource }, 'n')).rejects.toMatchObject({ option: 'store.dataSource' });
    await expect(openPostgres({ type: 'postgres', dataSource: {} }, 'n')).rejects.toMatchObject({ option: 'store.dataSource' });
    const mysql = { isInitialized: true, options: { type: 'mysql' }, driver: {} };
    await expect(openPostgres({ type: 'postgres', dataSource: mysql }, 'n')).rejects.toThrow(/postgres/);
    const idle = { ...(dataSource as object), isInitialized: false };
    await expect(openPostgres({ type: 'postgres', dataSource: idle }, 'n')).rejects.toThrow(/initiali[sz]e/);
    await expect(openPostgres({ ...base, poolSize: 0 }, 'n')).rejects.toMatchObject({ option: 'store.poolSize' });
  });

  it('guards the TypeORM migrations the same way', () => {
    expect(() => createSchedulerMigrations({ schema: 'public; DROP TABLE x; --' })).toThrow(SchedulerConfigError);
    expect(() => createSchedulerMigrations({ tablePrefix: 'a"b' })).toThrow(SchedulerConfigError);
  });
});
