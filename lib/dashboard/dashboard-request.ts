import type { DashboardAccess } from './dashboard.options.js';

const granted = new WeakMap<object, DashboardAccess>();

/**
 * Remembers what the access guard granted a request, for its route.
 * @internal
 */
export function grant(req: object, access: DashboardAccess): void {
  granted.set(req, access);
}

/**
 * What the access guard granted a request (`'read_only'` when it did not run).
 * @internal
 */
export function grantedTo(req: object): DashboardAccess {
  return granted.get(req) ?? 'read_only';
}

/**
 * A route parameter of a request, on Express and Fastify alike.
 * @internal
 */
export function routeParam(req: object, name: string): string {
  const params = (req as { params?: Record<string, unknown> }).params;
  const value = params?.[name];
  return typeof value === 'string' ? value : '';
}
