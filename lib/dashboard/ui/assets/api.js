// @ts-check
/**
 * @typedef {{ csrf: { header: string; value: string }; readOnly: boolean; actions: string[]; statsCacheMs: number; maxPageSize: number;
 *   ui: { title: string; environment: { label: string; color: string | null } | null; locale: string | null; theme: 'auto' | 'light' | 'dark' } | null;
 *   live: 'sse' | 'poll'; refreshMs: number }} Config
 */

/** An answer other than 2xx, with the API's reason. */
export class ApiError extends Error {
  /** @param {number} status @param {string} reason @param {string} message */
  constructor(status, reason, message) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

/** @type {Config | null} */
let config = null;

/** The dashboard's path, from this module's own URL (`<path>/assets/api.<hash>.js`): right under any prefix. */
export const BASE = new URL('../', import.meta.url);

/**
 * Every URL is relative to the dashboard's path, so it works under any global prefix.
 * @param {string} path @param {{ method?: string; headers?: Record<string, string>; body?: string }} [init]
 */
async function call(path, init = {}) {
  const response = await fetch(new URL(`api/${path}`, BASE), {
    credentials: 'same-origin',
    method: init.method ?? 'GET',
    headers: { accept: 'application/json', ...init.headers },
    body: init.body,
  });
  const text = await response.text();
  /** @type {any} */
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { message: text };
  }
  if (!response.ok) throw new ApiError(response.status, body?.reason ?? 'error', body?.message ?? response.statusText);
  return body;
}

/** `GET api/config`, once. @returns {Promise<Config>} */
export async function loadConfig() {
  config = await call('config');
  return /** @type {Config} */ (config);
}

/** @returns {Config} */
export function currentConfig() {
  if (!config) throw new Error('config not loaded');
  return config;
}

/** A read. @param {string} path @param {Record<string, string | undefined | null>} [query] */
export function get(path, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const search = params.toString();
  return call(search ? `${path}?${search}` : path);
}

/**
 * A mutation: it carries the CSRF header `api/config` names.
 * @param {string} path @param {unknown} [body] @param {'POST' | 'PUT' | 'PATCH'} [method]
 */
export function post(path, body, method = 'POST') {
  const { csrf } = currentConfig();
  /** @type {Record<string, string>} */
  const headers = { [csrf.header]: csrf.value };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return call(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Whether this caller may take an action (`api/config.actions`). @param {string} action */
export function can(action) {
  const current = currentConfig();
  return !current.readOnly && current.actions.includes(action);
}
