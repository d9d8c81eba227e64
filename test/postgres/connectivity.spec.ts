import { describe, expect, it } from 'vitest';
import { createTestSchema, withClient } from '../support/postgres.js';

describe('test PostgreSQL', () => {
  it('is a real server with SKIP LOCKED and LISTEN', async () => {
    const { url, schema, drop } = await createTestSchema();
    const version = await withClient(url, async (c) => (await c.query('SHOW server_version_num')).rows[0].server_version_num);
    expect(Number(version)).toBeGreaterThan(120000);
    await withClient(url, (c) => c.query(`CREATE TABLE "${schema}".x (id int); SELECT * FROM "${schema}".x FOR UPDATE SKIP LOCKED`));
    await drop();
  });
});
