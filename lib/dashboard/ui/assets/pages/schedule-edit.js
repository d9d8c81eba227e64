// @ts-check
import { can, post } from '../api.js';
import { h, perform, toast } from '../dom.js';
import { t } from '../i18n.js';

const KINDS = /** @type {const} */ (['cron', 'every', 'at']);

/** The rule as the form shows it: its kind and its text (a builder's spec has none: a new rule replaces it). @param {any} spec */
function ruleOf(spec) {
  for (const kind of KINDS) {
    if (spec[kind] !== undefined) return { kind, text: Array.isArray(spec[kind]) ? spec[kind].join('; ') : String(spec[kind]) };
  }
  return { kind: 'cron', text: '' };
}

/** @param {string} label @param {HTMLElement} control */
const field = (label, control) => h('label', {}, label, control);

/**
 * What `PATCH api/schedules/:name` is sent: only what the user changed (the rule with its zone, the arguments,
 * paused), so an untouched field keeps what the schedule has.
 * @param {any} schedule @param {FormData} data
 */
function patchOf(schedule, data) {
  const before = ruleOf(schedule.spec);
  const kind = String(data.get('kind'));
  const text = String(data.get('rule') ?? '').trim();
  const zone = String(data.get('zone') ?? '').trim();
  /** @type {Record<string, unknown>} */
  const patch = {};
  if (kind !== before.kind || text !== before.text || (kind === 'cron' && zone !== (schedule.zone ?? ''))) {
    // An interval in plain digits is milliseconds; anything else ('15m') the scheduler parses.
    patch[kind] = kind === 'every' && /^\d+$/.test(text) ? Number(text) : text;
    if (kind === 'cron' && zone) patch.zone = zone;
  }
  const args = String(data.get('args') ?? '').trim();
  if (args) {
    try {
      patch.args = JSON.parse(args);
    } catch {
      throw new Error(t('schedules.argsNotJson'));
    }
  }
  const paused = data.get('paused') === 'on';
  if (paused !== schedule.paused) patch.paused = paused;
  return patch;
}

/**
 * A schedule's edit form, folded in a `<details>`: runtime schedules only, for a caller who may edit
 * (`schedules.update`). A schedule defined in code says why it is read-only. While open, live refreshes wait.
 * @param {any} schedule
 */
export function scheduleEditor(schedule) {
  if (!can('schedules.update')) return null;
  if (schedule.origin !== 'runtime') return h('span', { class: 'muted small', 'data-test': 'read-only' }, t('schedules.readOnly'));
  const rule = ruleOf(schedule.spec);
  const form = h(
    'form',
    { class: 'edit-form' },
    field(
      t('schedules.kind'),
      h(
        'select',
        { name: 'kind' },
        KINDS.map((kind) => h('option', { value: kind, selected: kind === rule.kind }, kind)),
      ),
    ),
    field(t('schedules.rule'), h('input', { name: 'rule', value: rule.text, autocomplete: 'off' })),
    field(t('schedules.zone'), h('input', { name: 'zone', value: schedule.zone ?? '', autocomplete: 'off', placeholder: 'Etc/UTC' })),
    field(t('schedules.args'), h('textarea', { name: 'args', rows: 2, placeholder: t('schedules.argsKeep') })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'paused', checked: schedule.paused }), t('queues.paused')),
    h('button', { type: 'submit', 'data-action': 'schedules.update' }, t('common.save')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    let patch;
    try {
      patch = patchOf(schedule, new FormData(/** @type {HTMLFormElement} */ (form)));
    } catch (error) {
      toast(t('common.failed', { message: /** @type {Error} */ (error).message }), 'error');
      return;
    }
    void perform(async () => {
      const done = await post(`schedules/${encodeURIComponent(schedule.name)}`, patch, 'PATCH');
      return t('schedules.saved', { name: done.schedule.name, rule: done.schedule.description });
    }, t('schedules.edit'));
  });
  const details = h('details', { class: 'edit' }, h('summary', {}, t('schedules.edit')), form);
  // An open form holds live refreshes (which would close it); saving re-renders anyway.
  details.addEventListener('toggle', () => details.toggleAttribute('data-hold', /** @type {HTMLDetailsElement} */ (details).open));
  return details;
}
