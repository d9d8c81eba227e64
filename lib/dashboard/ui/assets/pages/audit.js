// @ts-check
import { get } from '../api.js';
import { badge, h, page, table, time } from '../dom.js';
import { t } from '../i18n.js';

/** @type {import('../dom.js').Render} */
export async function render() {
  const { entries } = await get('audit');
  const rows = entries.map((/** @type {any} */ entry) => [
    time(entry.at),
    h('code', {}, entry.action),
    entry.target,
    entry.actor ?? '—',
    badge(entry.outcome),
    [entry.reason, entry.count === undefined ? null : `count ${entry.count}`].filter(Boolean).join(', '),
  ]);
  return page(t('audit.title'), table([t('col.when'), t('audit.action'), t('audit.target'), t('audit.actor'), t('audit.outcome'), ''], rows));
}
