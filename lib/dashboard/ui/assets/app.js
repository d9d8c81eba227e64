// @ts-check
import { get, loadConfig } from './api.js';
import { cycleTimeMode, getTimeMode, h, setLocale } from './dom.js';
import { t } from './i18n.js';
import { installJump } from './jump.js';
import { startLive } from './live.js';
import * as audit from './pages/audit.js';
import * as deadLetters from './pages/dead-letters.js';
import * as job from './pages/job.js';
import * as jobs from './pages/jobs.js';
import * as nodes from './pages/nodes.js';
import * as overview from './pages/overview.js';
import * as queues from './pages/queues.js';
import * as schedules from './pages/schedules.js';
import * as workflow from './pages/workflow.js';
import * as workflows from './pages/workflows.js';

/** Client routes (`#/jobs/12?state=dead`): the first that matches renders. @type {[RegExp, import('./dom.js').Render, string | null][]} */
const ROUTES = [
  [/^\/?$/, overview.render, 'overview'],
  [/^\/queues$/, queues.render, 'queues'],
  [/^\/jobs$/, jobs.render, 'jobs'],
  [/^\/jobs\/([^/]+)$/, job.render, 'jobs'],
  [/^\/schedules$/, schedules.render, 'schedules'],
  [/^\/workflows$/, workflows.render, 'workflows'],
  [/^\/workflows\/([^/]+)$/, workflow.render, 'workflows'],
  [/^\/dead-letters$/, deadLetters.render, 'deadLetters'],
  [/^\/nodes$/, nodes.render, 'nodes'],
  [/^\/audit$/, audit.render, 'audit'],
];
const NAV = /** @type {const} */ (['overview', 'queues', 'jobs', 'schedules', 'workflows', 'deadLetters', 'nodes', 'audit']);
const HREF = { overview: '#/', deadLetters: '#/dead-letters' };

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
let rendering = 0;

/** Renders the page the hash names; `refresh` keeps the scroll and focus where they are. @param {boolean} refresh */
async function route(refresh) {
  const [path = '', search = ''] = location.hash.replace(/^#/, '').split('?');
  const found = ROUTES.find(([pattern]) => pattern.test(path)) ?? ROUTES[0];
  const params = (path.match(found[0]) ?? []).slice(1).map(decodeURIComponent);
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.getAttribute('data-section') === found[2]) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const ticket = ++rendering;
  if (!refresh) main.setAttribute('aria-busy', 'true');
  let content;
  try {
    content = await found[1](params, new URLSearchParams(search));
  } catch (error) {
    content = h('p', { class: 'error', role: 'alert' }, t('common.error', { message: /** @type {Error} */ (error).message }));
  }
  if (ticket !== rendering) return;
  const scroll = window.scrollY;
  main.replaceChildren(content);
  main.removeAttribute('aria-busy');
  if (refresh) window.scrollTo(0, scroll);
  else main.focus({ preventScroll: true });
}

/** A change seen live: re-render, unless the user is typing or in the middle of something (`data-hold`). */
function refreshLive() {
  const active = document.activeElement;
  if (active && main.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) return;
  if (main.querySelector('[data-hold]')) return;
  void route(true);
  void updateHealth();
}

async function updateHealth() {
  const badge = /** @type {HTMLElement} */ (document.getElementById('health'));
  try {
    // From the overview's shared snapshot (one store read per statsCacheMs, whatever the number of tabs).
    const { health: status } = await get('overview');
    badge.textContent = `${t('overview.health')}: ${status}`;
    badge.className = `health badge health-${status}`;
    badge.hidden = false;
  } catch {
    badge.hidden = true;
  }
}

function applyTheme() {
  const chosen = localStorage.getItem('scheduler.theme');
  if (chosen === 'light' || chosen === 'dark') document.documentElement.dataset.theme = chosen;
  const dark =
    document.documentElement.dataset.theme === 'dark' ||
    (document.documentElement.dataset.theme === 'auto' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  const toggle = /** @type {HTMLElement} */ (document.getElementById('theme-toggle'));
  // One label, its state in aria-pressed: a screen reader hears "Dark theme, pressed".
  toggle.textContent = t('theme.dark');
  toggle.setAttribute('aria-pressed', String(dark));
  return dark;
}

async function boot() {
  const config = await loadConfig();
  const ui = config.ui ?? { title: 'Scheduler', environment: null, locale: null, theme: 'auto' };
  setLocale(ui.locale);
  if (ui.environment) {
    const env = /** @type {HTMLElement} */ (document.getElementById('env'));
    env.textContent = ui.environment.label;
    // CSSOM, not a style attribute: the CSP allows no inline style.
    if (ui.environment.color) env.style.setProperty('--env', ui.environment.color);
    env.hidden = false;
  }
  const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
  nav.setAttribute('aria-label', t('nav.label'));
  const skip = document.querySelector('.skip');
  if (skip) skip.textContent = t('nav.skip');
  nav.replaceChildren(
    h(
      'ul',
      {},
      NAV.map((key) => h('li', {}, h('a', { href: HREF[/** @type {'overview'} */ (key)] ?? `#/${key}`, 'data-section': key }, t(`nav.${key}`)))),
    ),
  );
  installJump(
    /** @type {HTMLElement} */ (document.querySelector('.tools')),
    NAV.map((key) => ({ label: t(`nav.${key}`), href: HREF[/** @type {'overview'} */ (key)] ?? `#/${key}` })),
  );
  const timeButton = /** @type {HTMLElement} */ (document.getElementById('time-mode'));
  timeButton.title = t('time.toggle');
  const showTime = () => (timeButton.textContent = t(`time.${getTimeMode()}`));
  showTime();
  timeButton.addEventListener('click', () => {
    cycleTimeMode();
    showTime();
    void route(true);
  });
  applyTheme();
  document.getElementById('theme-toggle')?.addEventListener('click', () => {
    const dark = document.documentElement.dataset.theme === 'dark' || (document.documentElement.dataset.theme === 'auto' && applyTheme());
    localStorage.setItem('scheduler.theme', dark ? 'light' : 'dark');
    applyTheme();
  });
  window.addEventListener('hashchange', () => void route(false));
  window.addEventListener('scheduler:refresh', () => void route(true));
  const liveBadge = /** @type {HTMLElement} */ (document.getElementById('live'));
  startLive(config, refreshLive, (mode) => (liveBadge.textContent = t(/** @type {'live.sse'} */ (`live.${mode}`))));
  await Promise.all([route(false), updateHealth()]);
}

boot().catch((error) => {
  main.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('common.error', { message: error.message })));
  main.removeAttribute('aria-busy');
});
