// @ts-check
import { get } from './api.js';
import { h } from './dom.js';

const KINDS = /** @type {const} */ ([
  ['queues', 'queue'],
  ['names', 'name'],
  ['tags', 'tag'],
]);

/**
 * Autocomplete for a search box, from `GET api/search/suggest?prefix=` (names the server knows, no job scan):
 * the word being typed (`bi`, or `queue:bi`) is completed as qualified terms (`queue:billing`) in a `<datalist>`,
 * the rest of the box kept. Returns the datalist, to put beside the input.
 * @param {HTMLInputElement} input
 */
export function attachSuggestions(input) {
  const id = `${input.name}-suggestions`;
  const list = h('datalist', { id });
  input.setAttribute('list', id);
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let asked = 0;
  const suggest = async () => {
    const value = input.value;
    const head = value.slice(0, value.lastIndexOf(' ') + 1);
    const word = value.slice(head.length);
    const [, qualifier = null, prefix = word] = /^(?:(queue|name|tag):)?(.*)$/.exec(word) ?? [];
    // A quoted or `args.` term has nothing to complete.
    if (/["]|^args\./.test(word)) return list.replaceChildren();
    const ticket = ++asked;
    const found = await get('search/suggest', { prefix }).catch(() => null);
    if (!found || ticket !== asked) return;
    const options = KINDS.filter(([, kind]) => !qualifier || kind === qualifier).flatMap(([key, kind]) =>
      found[key].map((/** @type {string} */ name) => h('option', { value: `${head}${kind}:${/[\s"]/.test(name) ? JSON.stringify(name) : name}` })),
    );
    list.replaceChildren(...options);
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    // A short pause between keystrokes: one request per word typed, not per key.
    timer = setTimeout(() => void suggest(), 150);
  });
  return list;
}
