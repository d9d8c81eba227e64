import { Controller, Get, Inject, NotFoundException, Param, Req, Res, StreamableFile, UseGuards, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { loadDashboardUi, renderIndex, type DashboardUiBundle } from './dashboard-ui.assets.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { DashboardRequest, ResolvedDashboardOptions } from './dashboard.options.js';

/**
 * The policy sent with the page when the app gives no nonce: everything from
 * the dashboard's own origin, nothing inline (the page has no inline script
 * or style), no framing.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The browser UI: `GET <path>/` (index.html; the pages are client routes,
 * `#/jobs`) and `GET <path>/assets/<file>.<hash>.<ext>`. Guarded like the API.
 * The page answers at `<path>` and (Express, or Fastify with `ignoreTrailingSlash`) at `<path>/`.
 * The files are read and hashed once, at bootstrap (`ui: false`: none, and 404).
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
export class DashboardUiController implements OnModuleInit {
  private bundle: DashboardUiBundle | null = null;

  constructor(
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    if (this.options.ui) this.bundle = loadDashboardUi();
  }

  @Get()
  index(@Req() req: DashboardRequest & { url?: string }, @Res({ passthrough: true }) res: object): string {
    const { bundle, ui } = this.served();
    const adapter = this.adapterHost.httpAdapter;
    // The page's URLs are relative, so any global prefix (or a proxy's) works. At `<path>` (no trailing
    // slash; Fastify routes only that one unless `ignoreTrailingSlash`) they lead through its last segment;
    // the scripts find the API from their own URL.
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const base = pathname.endsWith('/') ? '' : `${decodeURIComponent(pathname.slice(pathname.lastIndexOf('/') + 1))}/`;
    const nonce = this.options.csp.nonce ? this.options.csp.nonce(req, res) : null;
    adapter.setHeader(res, 'Content-Type', 'text/html; charset=utf-8');
    adapter.setHeader(res, 'Cache-Control', 'no-store');
    adapter.setHeader(res, 'X-Content-Type-Options', 'nosniff');
    adapter.setHeader(res, 'Referrer-Policy', 'same-origin');
    if (nonce === null) adapter.setHeader(res, 'Content-Security-Policy', CSP);
    return renderIndex(bundle, { title: ui.title, theme: ui.theme, nonce, base });
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res({ passthrough: true }) res: object): StreamableFile {
    const asset = this.served().bundle.assets.get(file);
    if (!asset) throw new NotFoundException({ statusCode: 404, reason: 'not_found', message: `no dashboard asset ${file}` });
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(res, 'Cache-Control', IMMUTABLE);
    adapter.setHeader(res, 'X-Content-Type-Options', 'nosniff');
    return new StreamableFile(asset.body, { type: asset.contentType, length: asset.body.length });
  }

  private served(): { bundle: DashboardUiBundle; ui: NonNullable<ResolvedDashboardOptions['ui']> } {
    if (!this.bundle || !this.options.ui)
      throw new NotFoundException({ statusCode: 404, reason: 'not_found', message: 'the dashboard serves no UI (ui: false)' });
    return { bundle: this.bundle, ui: this.options.ui };
  }
}
