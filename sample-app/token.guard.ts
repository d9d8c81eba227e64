import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';

/** The cookie a browser keeps the token in, after opening the link main.ts prints. */
export const TOKEN_COOKIE = 'sample_dashboard_token';

interface SampleRequest {
  headers: Record<string, string | undefined>;
  query?: Record<string, unknown>;
}

interface SampleResponse {
  setHeader(name: string, value: string): unknown;
}

/**
 * The sample's dashboard guard: a token made at start (or
 * SAMPLE_DASHBOARD_TOKEN), printed by main.ts, sent as `Authorization:
 * Bearer <token>` (curl) or kept in a cookie: opening the page with
 * `?token=<token>` sets it (HttpOnly, SameSite=Strict), so the UI's own
 * requests carry it. A real app uses its own authentication here (an admin
 * guard, a session).
 */
@Injectable()
export class TokenGuard implements CanActivate {
  readonly token = process.env.SAMPLE_DASHBOARD_TOKEN ?? randomBytes(16).toString('hex');

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const req = http.getRequest<SampleRequest>();
    const bearer = req.headers.authorization?.replace(/^Bearer /, '');
    if (this.matches(bearer) || this.matches(cookie(req.headers.cookie, TOKEN_COOKIE))) return true;
    const query = req.query?.token;
    if (typeof query === 'string' && this.matches(query)) {
      http.getResponse<SampleResponse>().setHeader('set-cookie', `${TOKEN_COOKIE}=${query}; Path=/; HttpOnly; SameSite=Strict`);
      return true;
    }
    throw new UnauthorizedException('send Authorization: Bearer <the token the sample printed at start>, or open the link it printed');
  }

  private matches(given: string | undefined): boolean {
    if (given === undefined) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
