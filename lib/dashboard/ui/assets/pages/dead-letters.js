// @ts-check
import { get, post } from '../api.js';
import { actionButton, h, page, table, time } from '../dom.js';
import { t } from '../i18n.js';
import { retryAllPanel } from './retry-all.js';

/** @type {import('../dom.js').Render} */
export async function render(_params, query) {
  const [result, queues] = await Promise.all([
    get('dead-letters', { queue: query.get('queue'), name: query.get('name'), errorClass: query.get('errorClass'), offset: query.get('offset') }),
    get('queues'),
  ]);
  const rows = result.deadLetters.map((/** @type {any} */ letter) => [
    h('a', { href: `#/jobs/${encodeURIComponent(letter.id)}` }, letter.id),
    letter.name,
    letter.queue,
    letter.errorClass,
    letter.error ? `${letter.error.name}: ${letter.error.message}` : '',
    time(letter.lastFailedAt),
    actionButton('deadLetters.retry', t('deadLetters.retry'), async () => {
      await post(`dead-letters/${encodeURIComponent(letter.id)}/retry`);
    }),
  ]);
  const next = new URLSearchParams(query);
  if (result.nextOffset !== null) next.set('offset', String(result.nextOffset));
  return page(
    t('deadLetters.title'),
    retryAllPanel(
      query,
      queues.map((/** @type {any} */ queue) => queue.queue),
    ),
    table([t('col.id'), t('jobs.name'), t('jobs.queue'), t('deadLetters.class'), t('deadLetters.error'), t('col.when'), t('common.actions')], rows),
    h(
      'nav',
      { class: 'paging', 'aria-label': t('deadLetters.title') },
      result.nextOffset !== null ? h('a', { href: `#/dead-letters?${next}`, rel: 'next' }, t('common.next')) : null,
    ),
  );
}
