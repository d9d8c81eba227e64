// @ts-check
import { can, get, post } from '../api.js';
import { badge, h, num, page, table, time, toast } from '../dom.js';
import { t } from '../i18n.js';
import { attachSuggestions } from '../suggest.js';

const STATES = ['available', 'scheduled', 'running', 'completed', 'dead', 'discarded', 'cancelled'];
const BULK = /** @type {const} */ ([
  ['retry', 'jobs.bulkRetry', 'jobs.retry'],
  ['cancel', 'jobs.bulkCancel', 'jobs.cancel'],
  ['delete', 'jobs.bulkDelete', 'jobs.delete'],
]);

/** @param {URLSearchParams} query */
function filtersForm(query, /** @type {string[]} */ queues) {
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
  const search = /** @type {HTMLInputElement} */ (
    h('input', { name: 'q', type: 'search', value: query.get('q') ?? '', placeholder: 'args.userId:42 tag:vip id:12', autocomplete: 'off' })
  );
  const form = h(
    'form',
    { class: 'filters', role: 'search' },
    select('state', t('jobs.state'), STATES),
    select('queue', t('jobs.queue'), queues),
    h('label', {}, t('jobs.name'), h('input', { name: 'name', value: query.get('name') ?? '', autocomplete: 'off' })),
    h('label', {}, t('jobs.q'), search, attachSuggestions(search)),
    h('button', { type: 'submit' }, t('common.apply')),
    h('a', { href: '#/jobs', class: 'button ghost' }, t('common.clear')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(/** @type {HTMLFormElement} */ (form));
    const next = new URLSearchParams();
    for (const key of ['state', 'queue', 'name', 'q']) if (String(data.get(key) ?? '').trim()) next.set(key, String(data.get(key)).trim());
    location.hash = `#/jobs?${next}`;
  });
  return form;
}

/** Bulk actions on the selected jobs, or on the filter's: a dry run gives the count, then the user confirms. */
function bulkPanel(/** @type {URLSearchParams} */ query, /** @type {HTMLElement} */ list) {
  const allowed = BULK.filter(([, action]) => can(action));
  if (allowed.length === 0) return null;
  const choice = h(
    'select',
    { name: 'bulk-action' },
    allowed.map(([value, , label]) => h('option', { value }, t(label))),
  );
  const result = h('div', { class: 'bulk-result', role: 'status' });
  const panel = h(
    'div',
    { class: 'bulk' },
    h('label', {}, t('jobs.bulk'), choice),
    h('button', { type: 'button', class: 'secondary', 'data-test': 'dry-run' }, t('jobs.dryRun')),
    result,
  );
  panel.setAttribute('title', t('jobs.bulkScope'));
  const request = () => {
    const ids = [...list.querySelectorAll('input')].filter((box) => box.dataset.id && box.checked).map((box) => box.dataset.id);
    const action = /** @type {HTMLSelectElement} */ (choice).value;
    if (ids.length > 0) return { action, ids };
    // A bulk filter has no search terms: with a search, only the selected jobs can be named.
    if (query.get('q')) throw new Error(t('jobs.bulkNeedsSelection'));
    /** @type {Record<string, string>} */
    const filter = {};
    for (const key of ['state', 'queue', 'name']) if (query.get(key)) filter[key] = /** @type {string} */ (query.get(key));
    return { action, filter };
  };
  const dryRun = async () => {
    try {
      const body = request();
      const dry = await post('jobs/bulk', { ...body, dryRun: true });
      const confirm = h('button', { type: 'button', class: 'danger', 'data-test': 'bulk-confirm' }, t('jobs.confirm', { count: dry.count }));
      result.replaceChildren(h('span', {}, t('jobs.dryResult', { action: body.action, count: dry.count })), ...(dry.count > 0 ? [confirm] : []));
      result.setAttribute('data-hold', '');
      confirm.addEventListener('click', () => void apply(body));
    } catch (error) {
      toast(t('common.failed', { message: /** @type {Error} */ (error).message }), 'error');
    }
  };
  const apply = async (/** @type {object} */ body) => {
    try {
      const done = await post('jobs/bulk', body);
      toast(t('jobs.bulkResult', { action: done.action, affected: done.affected }), 'ok');
    } catch (error) {
      toast(t('common.failed', { message: /** @type {Error} */ (error).message }), 'error');
    }
    window.dispatchEvent(new Event('scheduler:refresh'));
  };
  panel.querySelector('[data-test=dry-run]')?.addEventListener('click', () => void dryRun());
  return panel;
}

/** @type {import('../dom.js').Render} */
export async function render(_params, query) {
  const filters = { q: query.get('q'), state: query.get('state'), queue: query.get('queue'), name: query.get('name'), cursor: query.get('cursor') };
  const [result, queues] = await Promise.all([get('jobs', filters), get('queues')]);
  const bulk = BULK.some(([, action]) => can(action));
  const rows = result.jobs.map((/** @type {any} */ job) => [
    bulk ? h('input', { type: 'checkbox', 'data-id': job.id, 'aria-label': t('jobs.select', { id: job.id }) }) : null,
    h('a', { href: `#/jobs/${encodeURIComponent(job.id)}` }, job.id),
    job.name,
    job.queue,
    badge(job.state),
    `${num(job.attempt)}/${num(job.maxAttempts)}`,
    time(job.runAt),
    time(job.insertedAt),
  ]);
  const list = table(
    [bulk ? '' : null, t('col.id'), t('jobs.name'), t('jobs.queue'), t('col.state'), t('jobs.attempt'), t('jobs.runAt'), t('jobs.inserted')].filter(
      (x) => x !== null,
    ),
    rows.map((/** @type {unknown[]} */ row) => row.filter((cell) => cell !== null)),
  );
  const head = list.querySelector('th');
  if (bulk && head && rows.length > 0) {
    const all = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', 'aria-label': t('jobs.selectAll') }));
    all.addEventListener('change', () => {
      for (const box of list.querySelectorAll('input')) if (box.dataset.id) box.checked = all.checked;
    });
    head.append(all);
  }
  const base = new URLSearchParams(query);
  base.delete('cursor');
  const next = new URLSearchParams(base);
  if (result.nextCursor) next.set('cursor', result.nextCursor);
  const paging = h(
    'nav',
    { class: 'paging', 'aria-label': t('jobs.title') },
    query.get('cursor') ? h('a', { href: `#/jobs?${base}` }, t('common.first')) : null,
    result.nextCursor ? h('a', { href: `#/jobs?${next}`, rel: 'next' }, t('common.next')) : null,
  );
  const total = result.total
    ? h('p', { class: 'muted', 'data-test': 'total' }, t(result.total.capped ? 'jobs.totalCapped' : 'jobs.total', { count: num(result.total.count) }))
    : null;
  return page(
    t('jobs.title'),
    filtersForm(
      query,
      queues.map((/** @type {any} */ q) => q.queue),
    ),
    bulkPanel(query, list),
    total,
    list,
    paging,
  );
}
