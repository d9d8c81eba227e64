import type { Type } from '@nestjs/common';
import { ModuleRef, ModulesContainer } from '@nestjs/core';
import { SchedulerConfigError } from '../scheduler.errors.js';
import type { JobMiddleware } from './job-middleware.js';

/**
 * Turns middleware classes into instances, once per class: a provider
 * anywhere in the app is used as it is; any other class is built with its
 * dependencies injected from the module of the job that names it, or from
 * the root module (global middleware).
 * @internal
 */
export class MiddlewareResolver {
  private readonly cache = new Map<Type<JobMiddleware>, JobMiddleware>();

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly modules: ModulesContainer,
  ) {}

  async resolve(types: readonly Type<JobMiddleware>[], jobModule: ModuleRef | undefined, source: string): Promise<JobMiddleware[]> {
    const out: JobMiddleware[] = [];
    for (const type of types) {
      let instance = this.cache.get(type);
      if (!instance) {
        instance = await this.build(type, jobModule, source);
        this.cache.set(type, instance);
      }
      out.push(instance);
    }
    return out;
  }

  /** An instance of another class an option names (e.g. `deadLetters.onDeadLetter`), found or built as middleware is. */
  async instance<T>(type: Type<T>, option: string): Promise<T> {
    return this.build(type, undefined, 'SchedulerModule', option);
  }

  private async build<T>(type: Type<T>, jobModule: ModuleRef | undefined, source: string, option = 'middleware'): Promise<T> {
    try {
      return this.moduleRef.get(type, { strict: false });
    } catch {
      // Not a provider: build it below.
    }
    let lastError: unknown;
    for (const ref of [jobModule, this.rootModuleRef(), this.moduleRef]) {
      if (!ref) continue;
      try {
        return await ref.create(type);
      } catch (error) {
        lastError = error;
      }
    }
    throw new SchedulerConfigError(
      source,
      option,
      `${type?.name ?? String(type)} could not be created: ${(lastError as Error)?.message ?? String(lastError)} (add it to a module's providers)`,
    );
  }

  private rootModuleRef(): ModuleRef | undefined {
    const root = [...this.modules.values()].find((m) => m.distance === 0 && !m.isGlobal);
    return root?.getProviderByKey(ModuleRef)?.instance as ModuleRef | undefined;
  }
}
