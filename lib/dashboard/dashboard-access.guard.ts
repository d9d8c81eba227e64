import {
  BadRequestException,
  ForbiddenException,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { SchedulerConfigError } from '../scheduler.errors.js';
import { HttpAdapterHost, ModuleRef, Reflector } from '@nestjs/core';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import { allows, type DashboardRouteAction } from './dashboard-actions.js';
import { DashboardAudit } from './dashboard.audit.js';
import { DASHBOARD_ACTION, DASHBOARD_CSRF_HEADER, DASHBOARD_CSRF_VALUE, DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { DashboardAccess, DashboardRequest, ResolvedDashboardOptions } from './dashboard.options.js';
import { grant, routeParam } from './dashboard-request.js';

/**
 * What a refused request answers (403): the status, and why.
 * @publicApi
 */
export interface DashboardRefusal {
  statusCode: 403;
  error: 'Forbidden';
  /** `forbidden` (a guard or `access` said no), `read_only`, `not_allowed` (the access lacks this action) or `csrf`. */
  reason: 'forbidden' | 'read_only' | 'not_allowed' | 'csrf';
  message: string;
}

function refuse(reason: DashboardRefusal['reason'], message: string): ForbiddenException {
  return new ForbiddenException({ statusCode: 403, error: 'Forbidden', reason, message } satisfies DashboardRefusal);
}

/**
 * Runs before every dashboard route: marks the response `noindex`, runs the
 * `guards` option's guards, asks `access`, and for a mutation checks the
 * CSRF header, `Sec-Fetch-Site` and the action's permission (a refused
 * mutation is audited as `denied`).
 * @internal
 */
@Injectable()
export class DashboardAccessGuard implements CanActivate, OnModuleInit {
  private guards: Promise<CanActivate[]> | null = null;

  constructor(
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
    private readonly moduleRef: ModuleRef,
    private readonly adapterHost: HttpAdapterHost,
    private readonly reflector: Reflector,
    private readonly audit: DashboardAudit,
  ) {}

  /** Resolves the guards at bootstrap, so that one that cannot be built fails it. */
  async onModuleInit(): Promise<void> {
    await this.resolveGuards();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<DashboardRequest & object>();
    this.adapterHost.httpAdapter.setHeader(http.getResponse(), 'X-Robots-Tag', 'noindex, nofollow');
    for (const guard of await this.resolveGuards()) {
      if (!(await settle(guard.canActivate(context)))) throw refuse('forbidden', 'a dashboard guard refused the request');
    }
    const access: DashboardAccess = await this.options.access(req);
    if (access === false) throw refuse('forbidden', 'no access to the scheduler dashboard');
    grant(req, access);
    const route = this.reflector.get<DashboardRouteAction | undefined>(DASHBOARD_ACTION, context.getHandler());
    if (!route) return true;
    const action = typeof route.action === 'function' ? route.action(req) : route.action;
    if (action === null) throw new BadRequestException({ statusCode: 400, reason: 'invalid', message: 'the request names no action this route takes' });
    const target = typeof route.param === 'function' ? route.param(req) : routeParam(req, route.param);
    const deny = (reason: DashboardRefusal['reason'], message: string): never => {
      this.audit.denied(req, action, target, reason);
      throw refuse(reason, message);
    };
    const headers = req.headers;
    if (headers[DASHBOARD_CSRF_HEADER] !== DASHBOARD_CSRF_VALUE)
      deny('csrf', `a dashboard action needs the header ${DASHBOARD_CSRF_HEADER}: ${DASHBOARD_CSRF_VALUE}`);
    const site = headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin')
      deny('csrf', `a dashboard action must come from the dashboard's own origin (Sec-Fetch-Site: ${String(site)})`);
    if (this.options.readOnly || access === 'read_only') deny('read_only', 'the dashboard is read-only');
    if (!allows(access, false, action)) deny('not_allowed', `this access does not allow ${action}`);
    return true;
  }

  private resolveGuards(): Promise<CanActivate[]> {
    this.guards ??= Promise.all(this.options.guards.map((guard) => (typeof guard === 'function' ? this.instance(guard) : Promise.resolve(guard))));
    return this.guards;
  }

  /** The app's instance of a guard class (provided by any module), or one built here, its dependencies global. */
  private async instance(type: Type<CanActivate>): Promise<CanActivate> {
    try {
      return this.moduleRef.get(type, { strict: false });
    } catch {
      try {
        return await this.moduleRef.create(type);
      } catch (error) {
        const first = String((error as Error)?.message ?? error).split('\n')[0];
        const detail = `cannot build ${type.name} (${first}); provide it in a module of the app`;
        throw new SchedulerConfigError('SchedulerDashboardModule', 'guards', detail);
      }
    }
  }
}

async function settle(answer: boolean | Promise<boolean> | Observable<boolean>): Promise<boolean> {
  return isObservable(answer) ? lastValueFrom(answer) : answer;
}
