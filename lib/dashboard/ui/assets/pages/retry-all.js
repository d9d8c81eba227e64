// @ts-check
import { can, post } from '../api.js';
import { h, num, toast } from '../dom.js';
import { t } from '../i18n.js';

const CLASSES = ['retryable', 'transient', 'degraded', 'terminal', 'unclassified'];

/**
 * "Retry all" on the dead letters a filter names (queue, name, error class; the page's filter to start with):
 * a dry run says how many first, then the user confirms. Absent without `deadLetters.retryAll`.
 * @param {URLSearchParams} query @param {string[]} queues
 */
export function retryAllPanel(query, queues) {
  if (!can('deadLetters.retryAll')) return null;
  const select = (/** @type {string} */ name, /** @type {string} */ label, /** @type {string[]} */ options) =>
    h(
      'label',
      {},
      label,
      h(
        'select',
        { name },
        h('option', { value: '' }, t('jobs.any')),
        options.map((value) => h('option', { value, selected: query.get(name) === value }, value)),
      ),
    );
  const result = h('div', { class: 'bulk-result', role: 'status' });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': t('deadLetters.retryAll') },
    select('queue', t('jobs.queue'), queues),
    h('label', {}, t('jobs.name'), h('input', { name: 'name', value: query.get('name') ?? '', autocomplete: 'off' })),
    select('errorClass', t('deadLetters.class'), CLASSES),
    h('button', { type: 'submit', class: 'secondary', 'data-action': 'deadLetters.retryAll' }, t('deadLetters.retryAllCount')),
    result,
  );
  const fail = (/** @type {unknown} */ error) => toast(t('common.failed', { message: /** @type {Error} */ (error).message }), 'error');
  const apply = async (/** @type {object} */ filter) => {
    try {
      const done = await post('dead-letters/retry-all', { filter, dryRun: false });
      toast(t('deadLetters.retried', { affected: num(done.affected) }), 'ok');
    } catch (error) {
      fail(error);
    }
    window.dispatchEvent(new Event('scheduler:refresh'));
  };
  const count = async () => {
    const data = new FormData(/** @type {HTMLFormElement} */ (form));
    /** @type {Record<string, string>} */
    const filter = {};
    for (const key of ['queue', 'name', 'errorClass']) if (String(data.get(key) ?? '').trim()) filter[key] = String(data.get(key)).trim();
    try {
      const dry = await post('dead-letters/retry-all', { filter, dryRun: true });
      const confirm = h(
        'button',
        { type: 'button', class: 'danger', 'data-test': 'retry-all-confirm' },
        t('deadLetters.retryAllConfirm', { count: num(dry.count) }),
      );
      confirm.addEventListener('click', () => void apply(filter));
      result.replaceChildren(h('span', {}, t('deadLetters.wouldRetry', { count: num(dry.count) })), ...(dry.count > 0 ? [confirm] : []));
      // The count stays on screen, not swept away by a live refresh, until the user confirms or leaves.
      result.setAttribute('data-hold', '');
    } catch (error) {
      fail(error);
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void count();
  });
  return form;
}
