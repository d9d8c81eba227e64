import { createRequire } from 'node:module';
import { MissingPackageError } from '../scheduler.errors.js';
import { loadOptionalPackage, type ModuleImporter } from '../common/optional-package.js';
import type { HealthIndicatorService } from '@nestjs/terminus';

const FEATURE = 'nestjs-scheduler/terminus';
const PACKAGE = '@nestjs/terminus';

/**
 * Throws {@link MissingPackageError} (what to install) when `@nestjs/terminus`
 * cannot be found. Synchronous, so that importing the entry point says so at
 * once; a top-level await would keep CommonJS apps from `require()`-ing it.
 * `resolve`: a parameter so that tests can ask for a package that is not installed.
 * @internal
 */
export function assertTerminusInstalled(resolve: (specifier: string) => string = createRequire(import.meta.url).resolve): void {
  try {
    // Its package.json is exported, so even a CommonJS resolver finds it in this ESM-only package.
    resolve(`${PACKAGE}/package.json`);
  } catch (error) {
    throw new MissingPackageError(PACKAGE, FEATURE, { cause: error });
  }
}

/**
 * Terminus's `HealthIndicatorService`, loaded on the first check (a static
 * import would fail at link time, before any hint could be given).
 * @internal
 */
export async function loadHealthIndicatorService(importer?: ModuleImporter): Promise<HealthIndicatorService> {
  const terminus = await loadOptionalPackage<typeof import('@nestjs/terminus')>(PACKAGE, FEATURE, importer);
  return new terminus.HealthIndicatorService();
}
