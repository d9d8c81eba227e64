// @ts-check
import { get, post } from '../api.js';
import { actionButton, badge, h, json, page, table, time } from '../dom.js';
import { t } from '../i18n.js';
import { workflowGraph } from './workflow-graph.js';

/** @type {import('../dom.js').Render} */
export async function render([id = '']) {
  const run = await get(`workflows/${encodeURIComponent(id)}`);
  const target = encodeURIComponent(run.id);
  const act = (/** @type {string} */ verb) => async () => {
    await post(`workflows/${target}/${verb}`);
  };
  const live = ['running', 'paused', 'scheduled', 'pending'].includes(run.state);
  const actions = h(
    'div',
    { class: 'actions' },
    live ? actionButton('workflows.cancel', t('workflows.cancel'), act('cancel'), { danger: true }) : null,
    run.state === 'running' ? actionButton('workflows.pause', t('workflows.pause'), act('pause')) : null,
    run.state === 'paused' ? actionButton('workflows.resume', t('workflows.resume'), act('resume')) : null,
    run.state === 'failed' ? actionButton('workflows.retry', t('workflows.retry'), act('retry')) : null,
  );
  const steps = run.nodes.map((/** @type {any} */ node) => [
    node.id,
    badge(node.state),
    String(node.attempts),
    node.jobId ? h('a', { href: `#/jobs/${encodeURIComponent(node.jobId)}` }, node.jobId) : '—',
    time(node.startedAt),
    time(node.finishedAt),
    node.error ?? node.skipReason ?? '',
  ]);
  return page(
    t('workflows.run', { id: run.id }),
    h('p', {}, h('a', { href: '#/workflows' }, `← ${t('workflows.back')}`)),
    h('p', {}, `${run.workflow} `, badge(run.state), run.error ? ` ${run.error}` : ''),
    actions,
    h('figure', { class: 'graph' }, workflowGraph(run.nodes, run.edges), h('figcaption', { class: 'muted small' }, t('workflows.graph'))),
    table(
      [t('jobs.name'), t('col.state'), t('jobs.attempt'), t('col.id'), t('col.started'), t('col.finished'), t('deadLetters.error')],
      steps,
      t('workflows.steps'),
    ),
    h('h2', {}, t('workflows.context')),
    json(run.context),
  );
}
