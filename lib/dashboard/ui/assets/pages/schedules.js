// @ts-check
import { get, post } from '../api.js';
import { actionButton, h, page, table, time } from '../dom.js';
import { t } from '../i18n.js';
import { scheduleEditor } from './schedule-edit.js';

/** @type {import('../dom.js').Render} */
export async function render() {
  const schedules = await get('schedules');
  const rows = schedules.map((/** @type {any} */ schedule) => {
    const name = encodeURIComponent(schedule.name);
    return [
      h('a', { href: `#/jobs?name=${name}` }, schedule.name),
      h('span', {}, schedule.description, schedule.paused ? h('span', { class: 'badge state-paused' }, t('queues.paused')) : null),
      h(
        'ul',
        { class: 'plain' },
        schedule.nextRuns.map((/** @type {string} */ at) => h('li', {}, time(at))),
      ),
      schedule.queue,
      schedule.origin,
      h(
        'div',
        { class: 'actions' },
        schedule.paused
          ? actionButton('schedules.resume', t('schedules.resume'), async () => {
              await post(`schedules/${name}/resume`);
            })
          : actionButton('schedules.pause', t('schedules.pause'), async () => {
              await post(`schedules/${name}/pause`);
            }),
        actionButton('schedules.runNow', t('schedules.runNow'), async () => {
          const ran = await post(`schedules/${name}/run-now`);
          return ran.duplicate ? t('schedules.duplicate', { id: ran.job.id }) : t('schedules.ran', { id: ran.job.id });
        }),
        scheduleEditor(schedule),
      ),
    ];
  });
  return page(
    t('schedules.title'),
    table([t('jobs.name'), t('schedules.rule'), t('schedules.next'), t('jobs.queue'), t('schedules.origin'), t('common.actions')], rows),
  );
}
