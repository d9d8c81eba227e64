import {
  BadRequestException,
  ConflictException,
  HttpException,
  Inject,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { catchError, throwError, timeout, TimeoutError, type Observable } from 'rxjs';
import {
  DuplicateJobError,
  InvalidArgumentError,
  JobNotFoundError,
  JobStateError,
  NotLeaderError,
  QueueNotFoundError,
  ShuttingDownError,
  StoreUnavailableError,
} from '../scheduler.errors.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { ResolvedDashboardOptions } from './dashboard.options.js';

/**
 * Gives every dashboard route `queryTimeoutMs` (then 503), and answers the
 * scheduler's typed errors with their HTTP status: not found 404, bad
 * argument 400, duplicate or a job in another state 409, not leader / shutting down / store down 503.
 * @internal
 */
@Injectable()
export class DashboardErrorsInterceptor implements NestInterceptor {
  constructor(@Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      timeout(this.options.queryTimeoutMs),
      catchError((error: unknown) => throwError(() => httpError(error, this.options.queryTimeoutMs))),
    );
  }
}

function httpError(error: unknown, timeoutMs: number): unknown {
  if (error instanceof HttpException) return error;
  if (error instanceof TimeoutError)
    return new ServiceUnavailableException({ statusCode: 503, reason: 'timeout', message: `no answer within ${timeoutMs} ms` });
  const message = (error as Error)?.message ?? String(error);
  if (error instanceof JobNotFoundError || error instanceof QueueNotFoundError) return new NotFoundException({ statusCode: 404, reason: 'not_found', message });
  if (error instanceof InvalidArgumentError) return new BadRequestException({ statusCode: 400, reason: 'invalid', message });
  if (error instanceof DuplicateJobError || error instanceof JobStateError) return new ConflictException({ statusCode: 409, reason: 'conflict', message });
  if (error instanceof NotLeaderError || error instanceof ShuttingDownError || error instanceof StoreUnavailableError) {
    return new ServiceUnavailableException({ statusCode: 503, reason: 'unavailable', message });
  }
  return error;
}
