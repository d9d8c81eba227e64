// @ts-check
import { can, get, post } from '../api.js';
import { actionButton, h, num, page, perform, table } from '../dom.js';
import { t } from '../i18n.js';

/**
 * The queue's concurrency, and a small form to change it on every node when the caller may (`queues.scale`).
 * No browser validation (`novalidate`): the API's 400 says what a good limit is.
 * @param {any} queue
 */
function concurrency(queue) {
  // This node's, else (a node that does not run the queue) the cluster-wide one kept in the store.
  const current = queue.concurrency ?? queue.storedConcurrency;
  const shown = current === null ? '—' : num(current);
  if (!can('queues.scale')) return shown;
  const input = /** @type {HTMLInputElement} */ (
    h('input', {
      type: 'number',
      name: 'limit',
      min: 1,
      step: 1,
      class: 'narrow',
      value: current ?? '',
      placeholder: '—',
      'aria-label': t('queues.limitOf', { queue: queue.queue }),
    })
  );
  const form = h(
    'form',
    { class: 'inline', novalidate: true },
    input,
    h('button', { type: 'submit', class: 'secondary', 'data-action': 'queues.scale' }, t('common.save')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const limit = input.value.trim() === '' ? null : Number(input.value);
    void perform(async () => {
      const done = await post(`queues/${encodeURIComponent(queue.queue)}/concurrency`, { limit }, 'PUT');
      return t('queues.scaled', { queue: done.queue, limit: num(done.concurrency) });
    }, t('queues.concurrency'));
  });
  return form;
}

/** @type {import('../dom.js').Render} */
export async function render() {
  // The list comes from the shared snapshot; each queue is then read now, so a pause shows at once.
  const names = (await get('queues')).map((/** @type {any} */ queue) => queue.queue);
  const queues = await Promise.all(names.map((/** @type {string} */ name) => get(`queues/${encodeURIComponent(name)}`)));
  const rows = queues.map((/** @type {any} */ queue) => {
    const name = encodeURIComponent(queue.queue);
    return [
      h('a', { href: `#/jobs?queue=${name}` }, queue.queue),
      h('span', { class: `badge ${queue.paused ? 'state-paused' : 'state-active'}` }, queue.paused ? t('queues.paused') : t('queues.active')),
      concurrency(queue),
      num(queue.counts.available),
      num(queue.counts.running),
      num(queue.counts.dead),
      queue.paused
        ? actionButton('queues.resume', t('queues.resume'), async () => {
            await post(`queues/${name}/resume`);
          })
        : actionButton('queues.pause', t('queues.pause'), async () => {
            await post(`queues/${name}/pause`);
          }),
    ];
  });
  const headers = [t('jobs.queue'), t('col.state'), t('queues.concurrency'), t('state.available'), t('state.running'), t('state.dead'), t('common.actions')];
  return page(t('queues.title'), table(headers, rows));
}
