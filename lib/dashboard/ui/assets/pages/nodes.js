// @ts-check
import { ApiError, get } from '../api.js';
import { h, num, page, table, time } from '../dom.js';
import { t } from '../i18n.js';

/** @type {import('../dom.js').Render} */
export async function render() {
  let result;
  try {
    result = await get('nodes');
  } catch (error) {
    // A server without `GET api/nodes` (an older version) says 404: the page says so instead of failing.
    if (error instanceof ApiError && error.status === 404)
      return page(t('nodes.title'), h('p', { class: 'muted', 'data-test': 'not-available' }, t('common.notAvailable')));
    throw error;
  }
  const rows = result.nodes.map((/** @type {any} */ node) => [
    h(
      'span',
      {},
      node.id,
      node.leader ? h('span', { class: 'badge state-leader' }, t('nodes.leader')) : null,
      node.self ? h('span', { class: 'badge state-self' }, t('nodes.self')) : null,
    ),
    time(node.heartbeatAt),
    Object.entries(node.running ?? {})
      .map(([queue, count]) => `${queue}: ${num(Number(count))}`)
      .join(', ') || '—',
    node.version ?? '—',
  ]);
  return page(t('nodes.title'), table([t('col.id'), t('nodes.heartbeat'), t('nodes.running'), t('nodes.version')], rows));
}
