import { describe, expect, it } from 'vitest';
import { schedulerConfigFromEnv, withEnv } from '../../../lib/config/index.js';
import { describeConfig } from '../../../lib/service/config.describe.js';
import { resolveOptions } from '../../../lib/scheduler.options.js';

const quiet = { warn: () => undefined };
class DataSource {}

describe('describeConfig', () => {
  it('lists effective values with their source, defaults included', () => {
    const options = withEnv({ pollInterval: '2s' }, { SCHEDULER_ENABLED: 'false', SCHEDULER_DLQ_RETENTION: '168h' }, quiet);
    const byOption = new Map(describeConfig(resolveOptions(options)).map((entry) => [entry.option, entry]));
    expect(byOption.get('pollInterval')).toEqual({ option: 'pollInterval', value: 2_000, source: 'code' });
    expect(byOption.get('enabled')).toEqual({ option: 'enabled', value: false, source: 'env', variable: 'SCHEDULER_ENABLED' });
    expect(byOption.get('deadLetters.maxAge')).toEqual({
      option: 'deadLetters.maxAge',
      value: 604_800_000,
      source: 'env',
      variable: 'SCHEDULER_DLQ_RETENTION',
    });
    expect(byOption.get('queues')).toEqual({ option: 'queues', value: { default: 10 }, source: 'default' });
    expect(byOption.get('peer.leaseTtl')).toEqual({ option: 'peer.leaseTtl', value: 30_000, source: 'default' });
    expect(byOption.get('defaults.backoff')).toMatchObject({ value: { type: 'exponential', delay: '1s' }, source: 'default' });
  });

  it('redacts the password of a store URL from env or code, and shows objects by their class', () => {
    const fromEnv = schedulerConfigFromEnv(
      { SCHEDULER_STORE: 'postgres', SCHEDULER_POSTGRES_URL: 'postgres://app:hunter2@db:5432/jobs', SCHEDULER_POSTGRES_TABLE_PREFIX: 'jobs_' },
      quiet,
    );
    const entries = describeConfig(resolveOptions(fromEnv));
    expect(entries.filter((entry) => entry.option.startsWith('store.'))).toEqual([
      { option: 'store.type', value: 'postgres', source: 'env', variable: 'SCHEDULER_STORE' },
      { option: 'store.url', value: 'postgres://app:***@db:5432/jobs', source: 'env', variable: 'SCHEDULER_POSTGRES_URL' },
      { option: 'store.tablePrefix', value: 'jobs_', source: 'env', variable: 'SCHEDULER_POSTGRES_TABLE_PREFIX' },
    ]);
    expect(JSON.stringify(entries)).not.toContain('hunter2');
    const code = describeConfig(resolveOptions({ store: { type: 'redis', url: 'redis://:topsecret@cache:6379/0', client: undefined } }));
    expect(code.find((entry) => entry.option === 'store.url')).toEqual({ option: 'store.url', value: 'redis://:***@cache:6379/0', source: 'code' });
    const withDataSource = describeConfig(resolveOptions({ store: { type: 'sqlite', dataSource: new DataSource() } }));
    expect(withDataSource.find((entry) => entry.option === 'store.dataSource')).toEqual({ option: 'store.dataSource', value: '[DataSource]', source: 'code' });
  });

  it('calls a store given as an instance or a factory custom, and peer: { leaseTtl } a default peer with a code TTL', () => {
    const entries = describeConfig(resolveOptions({ store: () => ({}) as never, peer: { leaseTtl: '9s' } }));
    expect(entries.find((entry) => entry.option === 'store.type')).toEqual({ option: 'store.type', value: 'custom', source: 'code' });
    expect(entries.find((entry) => entry.option === 'peer')).toEqual({ option: 'peer', value: true, source: 'default' });
    expect(entries.find((entry) => entry.option === 'peer.leaseTtl')).toEqual({ option: 'peer.leaseTtl', value: 9_000, source: 'code' });
  });
});
