import type { IncomingHttpHeaders } from 'node:http';
import { SchedulerConfigError } from '../scheduler.errors.js';
import { shown } from '../common/shown.js';

/** The request as the options' callbacks see it (`DashboardRequest`, repeated so that the two option files do not import each other). */
type UiRequest = { readonly headers: IncomingHttpHeaders };

/**
 * The browser UI's look (the `ui` option; `false` serves no UI, the API only).
 * @publicApi
 */
export interface DashboardUiOptions {
  /** The page's title and heading. @default 'Scheduler' */
  title?: string;
  /** A badge naming the environment (e.g. `{ label: 'prod', color: '#c00' }`), so nobody mistakes production for staging. @default none */
  environment?: { label: string; color?: string };
  /** The locale dates and numbers are written in (a BCP 47 tag). @default the browser's */
  locale?: string;
  /** `auto` follows the system's `prefers-color-scheme`; a user's toggle wins, remembered by the browser. @default 'auto' */
  theme?: 'auto' | 'light' | 'dark';
}

/**
 * The UI's Content-Security-Policy: with `nonce`, the page's `<script>` and
 * `<link>` tags carry the nonce your CSP middleware (e.g. helmet) allows,
 * and the dashboard sends no CSP header of its own.
 * @publicApi
 */
export interface DashboardCspOptions {
  /** The request's nonce (e.g. `(req, res) => res.locals.cspNonce`). @default none: the UI sends its own strict policy */
  nonce?(req: UiRequest, res: unknown): string;
}

/** The UI's resolved options, as `GET api/config` serves them. @publicApi */
export interface DashboardUiConfig {
  title: string;
  environment: { label: string; color: string | null } | null;
  locale: string | null;
  theme: 'auto' | 'light' | 'dark';
}

/** The UI's options with their defaults. @internal */
export interface ResolvedDashboardUiOptions {
  ui: DashboardUiConfig | null;
  live: 'sse' | 'poll';
  refreshMs: number;
  csp: { nonce: ((req: UiRequest, res: unknown) => string) | null };
}

const SOURCE = 'SchedulerDashboardModule';
const THEMES = ['auto', 'light', 'dark'] as const;

function text(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new SchedulerConfigError(SOURCE, option, `must be a non-empty string, got ${String(value)}`);
  return value;
}

/**
 * Validates `ui`, `live`, `refreshMs` and `csp`. @throws SchedulerConfigError
 * @internal
 */
export function resolveDashboardUiOptions(options: {
  ui?: false | DashboardUiOptions;
  live?: 'sse' | 'poll';
  refreshMs?: number;
  csp?: DashboardCspOptions;
}): ResolvedDashboardUiOptions {
  const live = options.live ?? 'sse';
  if (live !== 'sse' && live !== 'poll') throw new SchedulerConfigError(SOURCE, 'live', `must be 'sse' or 'poll', got ${String(live)}`);
  const refreshMs = options.refreshMs ?? 5000;
  if (!Number.isInteger(refreshMs) || refreshMs < 500)
    throw new SchedulerConfigError(SOURCE, 'refreshMs', `must be an integer of at least 500, got ${String(refreshMs)}`);
  const nonce = options.csp?.nonce;
  if (nonce !== undefined && typeof nonce !== 'function') throw new SchedulerConfigError(SOURCE, 'csp.nonce', 'must be a function');
  return {
    ui: options.ui === false ? null : uiConfig(options.ui ?? {}),
    live,
    refreshMs,
    csp: { nonce: nonce ? (req, res) => nonce.call(options.csp, req, res) : null },
  };
}

function uiConfig(ui: DashboardUiOptions): DashboardUiConfig {
  if (typeof ui !== 'object' || ui === null) throw new SchedulerConfigError(SOURCE, 'ui', 'must be false or an object');
  const theme = ui.theme ?? 'auto';
  if (!THEMES.includes(theme)) throw new SchedulerConfigError(SOURCE, 'ui.theme', `must be 'auto', 'light' or 'dark', got ${String(theme)}`);
  const env = ui.environment;
  // The color lands in a CSS custom property: only plain color syntax, so it cannot carry other CSS.
  if (env?.color !== undefined && !/^(#[0-9a-f]{3,8}|[a-z]+|(rgb|hsl)a?\([\d\s.,%/]+\))$/i.test(env.color))
    throw new SchedulerConfigError(SOURCE, 'ui.environment.color', `must be a CSS color (#c00, red, rgb(…)), got ${shown(env.color)}`);
  return {
    title: ui.title === undefined ? 'Scheduler' : text('ui.title', ui.title),
    environment: env ? { label: text('ui.environment.label', env.label), color: env.color ?? null } : null,
    locale: ui.locale === undefined ? null : text('ui.locale', ui.locale),
    theme,
  };
}
