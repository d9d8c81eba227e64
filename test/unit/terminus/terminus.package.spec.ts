import { describe, expect, it } from 'vitest';
import { MissingPackageError } from '../../../lib/index.js';
import { assertTerminusInstalled, loadHealthIndicatorService } from '../../../lib/terminus/terminus.package.js';

/** What Node throws for a package that is not installed. */
function notFound(specifier: string, code: string): Error {
  return Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/index.js`), { code });
}

describe('nestjs-scheduler/terminus without @nestjs/terminus', () => {
  it('importing the entry says what to install', () => {
    const resolve = (specifier: string): string => {
      throw notFound(specifier, 'MODULE_NOT_FOUND');
    };
    expect(() => assertTerminusInstalled(resolve)).toThrow(MissingPackageError);
    expect(() => assertTerminusInstalled(resolve)).toThrow(
      "nestjs-scheduler: nestjs-scheduler/terminus needs the '@nestjs/terminus' package: npm install @nestjs/terminus",
    );
  });

  it('finds it when installed (this repository has it as a dev dependency)', async () => {
    expect(() => assertTerminusInstalled()).not.toThrow();
    const indicators = await loadHealthIndicatorService();
    expect(indicators.check('k').up({ a: 1 })).toEqual({ k: { a: 1, status: 'up' } });
  });

  it('the first check says so too, if the package went missing after the import', async () => {
    const importer = async (specifier: string): Promise<unknown> => {
      throw notFound(specifier, 'ERR_MODULE_NOT_FOUND');
    };
    await expect(loadHealthIndicatorService(importer)).rejects.toThrow(MissingPackageError);
  });
});
