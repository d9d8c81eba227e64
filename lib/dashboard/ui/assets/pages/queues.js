// @ts-check
import { get, post } from '../api.js';
import { actionButton, h, num, page, table } from '../dom.js';
import { t } from '../i18n.js';

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
      queue.concurrency === null ? '—' : num(queue.concurrency),
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
  return page(t('queues.title'), table([t('jobs.queue'), t('col.state'), t('queues.concurrency'), 'available', 'running', 'dead', t('common.actions')], rows));
}
