// @ts-check
import { can } from './api.js';
import { t } from './i18n.js';

/** A page: its route's parameters and the hash's query in, its content out. @typedef {(params: string[], query: URLSearchParams) => Promise<HTMLElement>} Render */

/**
 * An element: `h('a', { href: '#/jobs', class: 'x' }, 'text', child)`. Attributes starting with `on` are listeners;
 * `false`/`null` attributes are left out. Text is always text (never parsed as HTML).
 * @param {string} tag @param {Record<string, unknown>} [attrs] @param {...(Node | string | number | null | undefined | false)[] | Node | string | number | null | undefined | false} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** @param {Element} el @param {unknown[]} children */
function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** @type {'local' | 'utc' | 'relative'} */
let timeMode = /** @type {any} */ (localStorage.getItem('scheduler.time')) ?? 'local';
/** @type {string | undefined} */
let locale;

/** @param {string | null} value */
export function setLocale(value) {
  locale = value ?? undefined;
}

export function getTimeMode() {
  return timeMode;
}

/** Local → UTC → relative → local. */
export function cycleTimeMode() {
  timeMode = timeMode === 'local' ? 'utc' : timeMode === 'utc' ? 'relative' : 'local';
  localStorage.setItem('scheduler.time', timeMode);
  return timeMode;
}

const UNITS = /** @type {const} */ ([
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
]);

/** A time as the user chose to read it, its exact ISO text in the tooltip. @param {string | null | undefined} iso */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const date = new Date(iso);
  let text;
  if (timeMode === 'relative') {
    const diff = date.getTime() - Date.now();
    const [unit, ms] = UNITS.find(([, size]) => Math.abs(diff) >= size) ?? UNITS[3];
    text = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(Math.round(diff / ms), unit);
  } else {
    text = date.toLocaleString(locale, { timeZone: timeMode === 'utc' ? 'UTC' : undefined, dateStyle: 'medium', timeStyle: 'medium' });
    if (timeMode === 'utc') text += ' UTC';
  }
  return h('time', { datetime: iso, title: iso }, text);
}

/** A number in the user's locale. @param {number} value */
export function num(value) {
  return value.toLocaleString(locale);
}

/** A state as a colored badge (the text says it too). @param {string} state */
export function badge(state) {
  return h('span', { class: `badge state-${state}` }, state.replace('_', ' '));
}

/** JSON, pretty. @param {unknown} value */
export function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

/**
 * Runs an action: says its outcome in the status region (the API's message when it fails) and, once done,
 * re-renders the page. Resolves to whether it was done.
 * @param {() => Promise<string | void>} act @param {string} label what a done action says, unless `act` returns a text
 */
export async function perform(act, label) {
  try {
    const what = (await act()) || label;
    toast(t('common.done', { what }), 'ok');
    window.dispatchEvent(new Event('scheduler:refresh'));
    return true;
  } catch (error) {
    toast(t('common.failed', { message: /** @type {Error} */ (error).message }), 'error');
    return false;
  }
}

/**
 * A button for an action: absent when the caller may not take it. On click it asks `confirm` (when given),
 * runs `act`, says the outcome, and re-renders the page.
 * @param {string} action @param {string} label @param {() => Promise<string | void>} act
 * @param {{ danger?: boolean; confirm?: string }} [options]
 */
export function actionButton(action, label, act, options = {}) {
  if (!can(action)) return null;
  const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: options.danger ? 'danger' : 'secondary', 'data-action': action }));
  button.textContent = label;
  const run = async () => {
    if (options.confirm && !window.confirm(options.confirm)) return;
    button.disabled = true;
    await perform(act, label);
    button.disabled = false;
  };
  button.addEventListener('click', () => void run());
  return button;
}

/** A message in the status region. @param {string} text @param {'ok' | 'error'} kind */
export function toast(text, kind) {
  const region = document.getElementById('toasts');
  if (!region) return;
  const item = h('div', { class: `toast ${kind}` }, text);
  region.append(item);
  setTimeout(() => item.remove(), 6000);
}

/** A table: headers, then rows of cells. @param {string[]} headers @param {unknown[][]} rows @param {string} [caption] */
export function table(headers, rows, caption) {
  if (rows.length === 0) return h('p', { class: 'muted empty' }, t('common.none'));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      caption ? h('caption', {}, caption) : null,
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((title) => h('th', { scope: 'col' }, title)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((cells) =>
          h(
            'tr',
            {},
            cells.map((cell) => h('td', {}, /** @type {any} */ (cell))),
          ),
        ),
      ),
    ),
  );
}

/** A page's heading and its content. @param {string} title @param {...unknown} children */
export function page(title, ...children) {
  return h('section', { class: 'page', 'aria-labelledby': 'page-title' }, h('h1', { id: 'page-title' }, title), /** @type {any} */ (children));
}
