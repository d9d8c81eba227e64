// @ts-check
import { h } from './dom.js';
import { t } from './i18n.js';

/**
 * The header's "Jump to" box, focused by ⌘K / Ctrl+K: a page's name opens that page, anything else is taken
 * as a job id (`#/jobs/<id>`). Its page names are offered in a `<datalist>`.
 * @param {HTMLElement} into where the box goes @param {{ label: string; href: string }[]} pages
 */
export function installJump(into, pages) {
  const input = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'jump',
      name: 'jump',
      type: 'search',
      list: 'jump-pages',
      autocomplete: 'off',
      placeholder: t('jump.placeholder'),
      'aria-keyshortcuts': 'Control+K Meta+K',
    })
  );
  const form = h(
    'form',
    { class: 'jump', role: 'search', 'aria-label': t('jump.label') },
    h('label', { for: 'jump', class: 'sr-only' }, t('jump.label')),
    input,
    h(
      'datalist',
      { id: 'jump-pages' },
      pages.map((page) => h('option', { value: page.label })),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const wanted = input.value.trim();
    if (!wanted) return;
    const found = pages.find((page) => page.label.toLowerCase() === wanted.toLowerCase());
    // `#12` and `id:12` are how ids are written elsewhere: both jump too.
    location.hash = found ? found.href : `#/jobs/${encodeURIComponent(wanted.replace(/^(#|id:)/, ''))}`;
    input.value = '';
    input.blur();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') input.blur();
  });
  document.addEventListener('keydown', (event) => {
    if ((event.metaKey || event.ctrlKey) && !event.altKey && event.key.toLowerCase() === 'k') {
      // The browser's own Ctrl+K (its search bar) would take the keys otherwise.
      event.preventDefault();
      input.focus();
      input.select();
    }
  });
  into.prepend(form);
}
