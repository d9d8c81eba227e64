// @ts-check
import { get } from '../api.js';
import { badge, h, num, page, table, time } from '../dom.js';
import { t } from '../i18n.js';

const STATES = ['available', 'scheduled', 'running', 'completed', 'dead', 'discarded', 'cancelled'];
const SVG = 'http://www.w3.org/2000/svg';

/** @param {string} tag @param {Record<string, string | number>} attrs */
function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

/**
 * Jobs that ended per sample, as bars (completed above, failures in red), drawn as inline SVG.
 * @param {{ at: string; completed: number; dead: number; retried: number; discarded: number }[]} samples
 */
function throughput(samples) {
  if (samples.length === 0) return h('p', { class: 'muted' }, t('overview.noHistory'));
  const width = 600;
  const height = 120;
  const max = Math.max(1, ...samples.map((s) => s.completed + s.dead + s.retried + s.discarded));
  const step = width / samples.length;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': t('overview.throughput') });
  samples.forEach((sample, i) => {
    const failed = sample.dead + sample.retried + sample.discarded;
    const okHeight = (sample.completed / max) * height;
    const failHeight = (failed / max) * height;
    const x = i * step + step * 0.1;
    const w = Math.max(1, step * 0.8);
    const ok = svg('rect', { x, y: height - okHeight - failHeight, width: w, height: okHeight, class: 'bar-ok' });
    const bad = svg('rect', { x, y: height - failHeight, width: w, height: failHeight, class: 'bar-fail' });
    const title = svg('title', {});
    title.textContent = `${sample.at}: ${sample.completed} completed, ${failed} failed`;
    ok.append(title);
    chart.append(ok, bad);
  });
  return chart;
}

/** @type {import('../dom.js').Render} */
export async function render() {
  const [overview, history] = await Promise.all([get('overview'), get('metrics/history', { range: '1h' }).catch(() => ({ samples: [] }))]);
  const rows = overview.queues.map((/** @type {any} */ queue) => [
    h('a', { href: `#/jobs?queue=${encodeURIComponent(queue.queue)}` }, queue.queue),
    ...STATES.map((state) =>
      queue.counts[state] ? h('a', { href: `#/jobs?queue=${encodeURIComponent(queue.queue)}&state=${state}` }, num(queue.counts[state])) : '0',
    ),
  ]);
  rows.push([h('strong', {}, t('overview.totals')), ...STATES.map((state) => h('strong', {}, num(overview.totals[state])))]);
  return page(
    t('overview.title'),
    h(
      'dl',
      { class: 'facts' },
      h('div', {}, h('dt', {}, t('overview.health')), h('dd', {}, badge(overview.health))),
      h('div', {}, h('dt', {}, t('overview.leader')), h('dd', { 'data-test': 'leader' }, overview.leader ?? t('overview.noLeader'))),
      h('div', {}, h('dt', {}, t('overview.node')), h('dd', {}, overview.node)),
    ),
    h('h2', {}, t('overview.counts')),
    table([t('jobs.queue'), ...STATES.map((state) => t(/** @type {import('../i18n.js').MessageKey} */ (`state.${state}`)))], rows),
    h('p', { class: 'muted small' }, t('overview.generated', { time: '' }), time(overview.generatedAt)),
    h('h2', {}, t('overview.throughput')),
    throughput(history.samples),
  );
}
