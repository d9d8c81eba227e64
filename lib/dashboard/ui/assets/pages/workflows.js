// @ts-check
import { get } from '../api.js';
import { badge, h, page, table, time } from '../dom.js';
import { t } from '../i18n.js';

/** @type {import('../dom.js').Render} */
export async function render(_params, query) {
  const result = await get('workflows', { state: query.get('state'), name: query.get('name'), cursor: query.get('cursor') });
  const rows = result.runs.map((/** @type {any} */ run) => [
    h('a', { href: `#/workflows/${encodeURIComponent(run.id)}` }, run.id),
    run.workflow,
    badge(run.state),
    Object.entries(run.steps)
      .filter(([, count]) => count > 0)
      .map(([state, count]) => `${state} ${count}`)
      .join(', '),
    time(run.createdAt),
    run.error ?? '',
  ]);
  const next = new URLSearchParams(query);
  if (result.nextCursor) next.set('cursor', result.nextCursor);
  return page(
    t('workflows.title'),
    table([t('col.id'), t('jobs.name'), t('col.state'), t('workflows.steps'), t('jobs.inserted'), t('deadLetters.error')], rows),
    h(
      'nav',
      { class: 'paging', 'aria-label': t('workflows.title') },
      result.nextCursor ? h('a', { href: `#/workflows?${next}`, rel: 'next' }, t('common.next')) : null,
    ),
  );
}
