import { describe, expect, it } from 'vitest';
import { channelName, openPostgres } from '../../../lib/postgres/postgres.connection.js';
import { boundsWithin, resolveTimeouts } from '../../../lib/postgres/postgres.timeouts.js';
import { isConnectionError } from '../../../lib/postgres/postgres.errors.js';

describe('channelName', () => {
  it('gives pairs that read alike different channels', () => {
    // Both read "a_b_c_events": the old name was the same, so each deployment heard the other.
    expect(channelName('a_b', 'c_')).not.toBe(channelName('a', 'b_c_'));
    expect(channelName('a_b', 'c_')).toMatch(/^a_b_c_events_[0-9a-f]{20}$/);
    expect(channelName('s', '')).not.toBe(channelName('s_', ''));
    expect(channelName('s', 'x')).toBe(channelName('s', 'x'));
  });

  it('stays within 63 bytes, distinct for names that share their first 42 characters', () => {
    const long = 'x'.repeat(63);
    const a = channelName(long, `${'p'.repeat(62)}a`);
    const b = channelName(long, `${'p'.repeat(62)}b`);
    for (const name of [a, b]) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
  });
});

describe('connection timeouts', () => {
  it('defaults: pool statements 30 s (the client 5 s later), heartbeats 5 s (the server at 4 s), migrations 10 min, keepalive after 10 s', () => {
    expect(resolveTimeouts({})).toEqual({
      pool: { statementTimeout: 30_000, queryTimeout: 35_000, connectTimeout: 10_000 },
      heartbeat: { statementTimeout: 4_000, queryTimeout: 5_000, connectTimeout: 5_000 },
      migration: 600_000,
      keepAliveDelay: 10_000,
    });
    expect(boundsWithin(10_000)).toEqual({ statementTimeout: 8_000, queryTimeout: 10_000, connectTimeout: 10_000 });
  });

  it('takes durations and refuses what is not one, naming the option', async () => {
    expect(resolveTimeouts({ statementTimeout: '1m', heartbeatTimeout: 800 }).pool.statementTimeout).toBe(60_000);
    const base = { type: 'postgres' as const, url: 'postgres://127.0.0.1:1/none' };
    await expect(openPostgres({ ...base, statementTimeout: 'soon' }, 'n')).rejects.toMatchObject({ option: 'store.statementTimeout' });
    await expect(openPostgres({ ...base, heartbeatTimeout: 0 }, 'n')).rejects.toMatchObject({ option: 'store.heartbeatTimeout' });
    await expect(openPostgres({ ...base, migrationTimeout: '30d' }, 'n')).rejects.toMatchObject({ option: 'store.migrationTimeout' });
    await expect(openPostgres({ ...base, keepAliveDelay: 10 }, 'n')).rejects.toMatchObject({ option: 'store.keepAliveDelay' });
  });

  it('refuses a dataSource that is not an object (null from plain JavaScript), naming it', async () => {
    await expect(openPostgres({ type: 'postgres', dataSource: null as never }, 'n')).rejects.toMatchObject({ option: 'store.dataSource' });
  });

  it('takes a Unix socket that is not there (ENOENT) for a server not up yet, as a refused connection', () => {
    expect(isConnectionError(Object.assign(new Error('connect ENOENT /var/run/postgresql/.s.PGSQL.5432'), { code: 'ENOENT' }))).toBe(true);
  });
});
