import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseUrl } from '../support/postgres.js';
import { TcpProxy } from '../support/tcp-proxy.js';

describe('TcpProxy (test support)', () => {
  let proxy: TcpProxy;
  const clients: pg.Client[] = [];
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: proxy.urlFor(databaseUrl()), connectionTimeoutMillis: 2_000, query_timeout: 300 });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  };
  afterEach(async () => {
    await proxy.close();
    for (const client of clients.splice(0)) await client.end().catch(() => undefined);
  });

  it('forwards to PostgreSQL', async () => {
    proxy = await TcpProxy.start(databaseUrl());
    const client = await connect();
    expect((await client.query('SELECT 41 + 1 AS n')).rows[0].n).toBe(42);
    expect(proxy.open).toBe(1);
  });

  it('black-holes open connections without closing them; new ones are forwarded', async () => {
    proxy = await TcpProxy.start(databaseUrl());
    const held = await connect();
    let ended = false;
    held.on('end', () => (ended = true));
    proxy.blackHole();
    await expect(held.query('SELECT 1')).rejects.toThrow(/Query read timeout/);
    expect(ended).toBe(false);
    const fresh = await connect();
    expect((await fresh.query('SELECT 1 AS n')).rows[0].n).toBe(1);
  });

  it('drops every connection, as a database restart does', async () => {
    proxy = await TcpProxy.start(databaseUrl());
    const client = await connect();
    const ended = new Promise<void>((resolve) => client.on('end', () => resolve()));
    proxy.dropAll();
    await ended;
    expect(proxy.open).toBe(0);
    await expect(client.query('SELECT 1')).rejects.toThrow();
  });

  it('refuses new connections until it accepts them again', async () => {
    proxy = await TcpProxy.start(databaseUrl());
    proxy.refuse();
    await expect(connect()).rejects.toThrow();
    expect(proxy.refused).toBe(1);
    proxy.accept();
    const client = await connect();
    expect((await client.query('SELECT 1 AS n')).rows[0].n).toBe(1);
  });
});
