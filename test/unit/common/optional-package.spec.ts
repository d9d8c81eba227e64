import { describe, expect, it } from 'vitest';
import { loadOptionalPackage } from '../../../lib/common/optional-package.js';
import { MissingPackageError } from '../../../lib/index.js';

describe('loadOptionalPackage', () => {
  it('loads an installed package', async () => {
    const pg = await loadOptionalPackage<{ default: { Pool: unknown } }>('pg', 'the PostgreSQL store');
    expect(typeof pg.default.Pool).toBe('function');
  });

  it('names the package to install when it is missing', async () => {
    const error = await loadOptionalPackage('nestjs-scheduler-not-installed', 'the Test store').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPackageError);
    expect(error).toMatchObject({
      packageName: 'nestjs-scheduler-not-installed',
      message: "nestjs-scheduler: the Test store needs the 'nestjs-scheduler-not-installed' package: npm install nestjs-scheduler-not-installed",
    });
    expect((error as Error).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  it('rethrows any other failure as it is: an installed package that breaks, or one missing something of its own', async () => {
    const broken = new Error('boom');
    await expect(loadOptionalPackage('pg', 'the PostgreSQL store', () => Promise.reject(broken))).rejects.toBe(broken);
    const nested = Object.assign(new Error("Cannot find package 'pg-types' imported from pg"), { code: 'ERR_MODULE_NOT_FOUND' });
    await expect(loadOptionalPackage('pg', 'the PostgreSQL store', () => Promise.reject(nested))).rejects.toBe(nested);
  });
});
