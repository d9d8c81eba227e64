import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';

/**
 * The sample's dashboard guard: a bearer token made at start (or
 * SAMPLE_DASHBOARD_TOKEN), printed by main.ts. A real app uses its own
 * authentication here (an admin guard, a session).
 */
@Injectable()
export class TokenGuard implements CanActivate {
  readonly token = process.env.SAMPLE_DASHBOARD_TOKEN ?? randomBytes(16).toString('hex');

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization ?? '';
    const given = Buffer.from(header.replace(/^Bearer /, ''));
    const expected = Buffer.from(this.token);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
    throw new UnauthorizedException('send Authorization: Bearer <the token the sample printed at start>');
  }
}
