// @ts-check
import { get, post } from '../api.js';
import { actionButton, badge, h, json, num, page, time } from '../dom.js';
import { t } from '../i18n.js';

/** @param {string} label @param {unknown} value */
const fact = (label, value) => h('div', {}, h('dt', {}, label), h('dd', {}, /** @type {any} */ (value)));

/** @param {any} progress */
function progressBar(progress) {
  if (!progress) return null;
  // A number is a percentage; an object may carry one as `percent`.
  const percent = typeof progress === 'number' ? progress : typeof progress.percent === 'number' ? progress.percent : null;
  return h(
    'div',
    { class: 'progress' },
    percent === null ? null : h('progress', { max: 100, value: percent, 'aria-label': t('job.progress') }, `${percent}%`),
    json(progress),
  );
}

/** @type {import('../dom.js').Render} */
export async function render([id = '']) {
  const job = await get(`jobs/${encodeURIComponent(id)}`);
  const target = encodeURIComponent(job.id);
  const waits = job.state === 'available' || job.state === 'scheduled';
  const actions = h(
    'div',
    { class: 'actions' },
    job.state === 'dead'
      ? actionButton('jobs.retry', t('jobs.retry'), async () => {
          await post(`jobs/${target}/retry`);
        })
      : null,
    ['available', 'scheduled', 'running'].includes(job.state)
      ? actionButton(
          'jobs.cancel',
          t('jobs.cancel'),
          async () => {
            await post(`jobs/${target}/cancel`);
          },
          { danger: true },
        )
      : null,
    waits
      ? actionButton('jobs.runNow', t('job.runNow'), async () => {
          await post(`jobs/${target}/run-now`);
          return t('job.ranNow', { id: job.id });
        })
      : null,
    // Offered for a running job too: the server's 409 says to cancel it first.
    actionButton(
      'jobs.delete',
      t('jobs.delete'),
      async () => {
        await post(`jobs/${target}/delete`);
        location.hash = '#/jobs';
        return t('job.deleted', { id: job.id });
      },
      { danger: true, confirm: t('job.confirmDelete', { id: job.id }) },
    ),
  );
  const waiting = waits
    ? h(
        'section',
        { class: 'waiting', 'aria-labelledby': 'waiting-title' },
        h('h2', { id: 'waiting-title' }, t('job.waiting')),
        job.waiting.length === 0
          ? h('p', {}, t('job.waitingNone'))
          : h(
              'ul',
              {},
              job.waiting.map((/** @type {any} */ reason) => h('li', { 'data-code': reason.code }, h('code', {}, reason.code), ' ', reason.message)),
            ),
      )
    : null;
  const errors = job.errors.length
    ? h(
        'section',
        {},
        h('h2', {}, t('job.errors')),
        job.errors.map((/** @type {any} */ error) =>
          h(
            'details',
            { class: 'attempt-error', open: error === job.errors.at(-1) },
            h('summary', {}, `#${error.attempt} `, time(error.at), ` ${error.name}: ${error.message}`, error.errorClass ? ` (${error.errorClass})` : ''),
            error.stack ? h('pre', { class: 'stack' }, error.stack) : null,
          ),
        ),
      )
    : null;
  const workflow = job.workflow
    ? job.workflow.runId
      ? h(
          'a',
          { href: `#/workflows/${encodeURIComponent(job.workflow.runId)}` },
          `${job.workflow.workflow} / ${job.workflow.step ?? ''} (${job.workflow.runId})`,
        )
      : job.workflow.workflow
    : null;
  return page(
    t('job.title', { id: job.id }),
    h('p', {}, h('a', { href: '#/jobs' }, `← ${t('job.back')}`)),
    actions,
    h(
      'dl',
      { class: 'facts' },
      fact(t('col.state'), badge(job.state)),
      fact(t('jobs.name'), job.name),
      fact(t('jobs.queue'), job.queue),
      fact(t('jobs.attempt'), `${num(job.attempt)}/${num(job.maxAttempts)}`),
      fact(t('jobs.runAt'), time(job.runAt)),
      fact(t('jobs.inserted'), time(job.insertedAt)),
      job.node ? fact(t('job.node'), job.node) : null,
      job.traceId ? fact(t('job.trace'), h('code', {}, job.traceId)) : null,
      workflow ? fact(t('job.workflow'), workflow) : null,
    ),
    waiting,
    job.progress ? h('section', {}, h('h2', {}, t('job.progress')), progressBar(job.progress)) : null,
    h('section', {}, h('h2', {}, t('job.args')), json(job.args)),
    job.result === null ? null : h('section', {}, h('h2', {}, t('job.result')), json(job.result)),
    errors,
  );
}
