import { MissingPackageError } from '../scheduler.errors.js';

/**
 * Loads a module by specifier (`import()` by default); a parameter so that
 * tests can ask for a package that is not installed.
 * @publicApi
 */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

const nativeImport: ModuleImporter = (specifier) => import(specifier);

/**
 * Loads an optional peer dependency (`pg`, `typeorm`, …) when a feature first
 * needs it, so apps that never use the feature need not install it. A missing
 * package rejects with {@link MissingPackageError}, which says what to
 * install; any other failure (the package is there but broken) is rethrown.
 * @internal
 */
export async function loadOptionalPackage<T>(packageName: string, feature: string, importer: ModuleImporter = nativeImport): Promise<T> {
  try {
    return (await importer(packageName)) as T;
  } catch (error) {
    if (isMissing(error, packageName)) throw new MissingPackageError(packageName, feature, { cause: error });
    throw error;
  }
}

/** Node says ERR_MODULE_NOT_FOUND (ESM) or MODULE_NOT_FOUND (CommonJS); the message must name this package, not one it imports. */
function isMissing(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && error instanceof Error && error.message.includes(`'${packageName}'`);
}
