import type { JsonScalar } from '../common/json.js';
import { InvalidArgumentError } from '../scheduler.errors.js';
import type { Job, JobArgsCondition, JobFilter, JobState } from '../store/job.types.js';
import { argsMatch, nameContains } from '../store/search-conditions.js';
import type { DashboardJobPage } from './dashboard-job.views.js';

/** The filter a search gives a store: every field optional, all of them ANDed. @internal */
export type DashboardSearchFilter = Pick<JobFilter, 'states' | 'queue' | 'nameOrSchedule' | 'nameContains' | 'args' | 'tags'>;

/** How many jobs match a search: counted up to the dashboard's `countCap`. @publicApi */
export interface DashboardJobTotal {
  /** The matches, at most `countCap`. */
  count: number;
  /** There are more than `count` (show "10k+"). */
  capped: boolean;
}

/** What `GET api/jobs` answers: a page, and the total of the search. @publicApi */
export interface DashboardJobSearchPage extends DashboardJobPage {
  total: DashboardJobTotal;
}

/** A parsed search: the store's filter, and the job to jump to (`id:`), if any. @internal */
export interface DashboardSearch {
  filter: DashboardSearchFilter;
  id: string | null;
}

/** What `GET api/jobs` takes: the plain parameters and `q`. @internal */
export interface DashboardSearchParams {
  q?: string;
  state?: string;
  queue?: string;
  name?: string;
}

const STATES: readonly JobState[] = ['available', 'running', 'completed', 'dead', 'discarded', 'cancelled'];
/** Bounds on a query, so one request cannot make a store evaluate thousands of conditions per row. */
const MAX_QUERY_LENGTH = 1000;
const MAX_TERMS = 20;
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const JOB_ID = /^\d{1,19}$/;

/**
 * Parses `GET api/jobs`'s search: `q` (see docs/dashboard.md, "Search") and
 * the plain `state`, `queue` and `name` parameters, all ANDed together.
 * @throws InvalidArgumentError naming the bad term
 * @internal
 */
export function parseJobSearch(params: DashboardSearchParams): DashboardSearch {
  for (const [argument, value] of Object.entries(params))
    if (value !== undefined && typeof value !== 'string') throw new InvalidArgumentError(argument, 'must be given once, as text');
  const search: DashboardSearch = { filter: {}, id: null };
  if (params.state) setStates(search, params.state, params.state, 'state');
  if (params.queue) setOnce(search, 'queue', params.queue, params.queue, 'queue');
  if (params.name) setOnce(search, 'nameOrSchedule', params.name, params.name, 'name');
  const q = params.q ?? '';
  if (q.length > MAX_QUERY_LENGTH) throw new InvalidArgumentError('q', `must be at most ${MAX_QUERY_LENGTH} characters`);
  const terms = tokens(q);
  if (terms.length > MAX_TERMS) throw new InvalidArgumentError('q', `must have at most ${MAX_TERMS} terms, got ${terms.length}`);
  for (const term of terms) applyTerm(search, term);
  return search;
}

/** Splits on whitespace outside double quotes (`\"` inside quotes does not end them). */
function tokens(q: string): string[] {
  const found: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < q.length; i++) {
    const c = q[i]!;
    if (quoted && c === '\\' && i + 1 < q.length) {
      current += c + q[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (!quoted && /\s/.test(c)) {
      if (current) found.push(current);
      current = '';
    } else current += c;
  }
  if (quoted) throw new InvalidArgumentError('q', `unterminated quote in ${current}`);
  if (current) found.push(current);
  return found;
}

function applyTerm(search: DashboardSearch, term: string): void {
  const colon = term.indexOf(':');
  if (term.startsWith('"') || colon === -1) {
    search.filter.nameContains = [...(search.filter.nameContains ?? []), text(term, term)];
    return;
  }
  const key = term.slice(0, colon);
  const raw = term.slice(colon + 1);
  if (raw === '') throw new InvalidArgumentError('q', `${term} needs a value after the colon`);
  if (key.startsWith('args.')) return addArgs(search, key.slice('args.'.length).split('.'), raw, term);
  switch (key) {
    case 'queue':
      return setOnce(search, 'queue', text(raw, term), term);
    case 'name':
      return setOnce(search, 'nameOrSchedule', text(raw, term), term);
    case 'state':
      return setStates(search, text(raw, term), term);
    case 'tag':
      search.filter.tags = [...(search.filter.tags ?? []), text(raw, term)];
      return;
    case 'id': {
      const id = text(raw, term);
      if (!JOB_ID.test(id)) throw new InvalidArgumentError('q', `${term}: a job id is digits`);
      if (search.id !== null && search.id !== id) throw new InvalidArgumentError('q', `${term} contradicts id:${search.id}`);
      search.id = id;
      return;
    }
    default:
      throw new InvalidArgumentError(
        'q',
        `unknown qualifier "${key}:" in ${term} (known: args.<path>:, queue:, name:, state:, tag:, id:); quote the term to search names for it`,
      );
  }
}

function addArgs(search: DashboardSearch, path: string[], raw: string, term: string): void {
  if (path.some((key) => key === '' || key.includes('"')))
    throw new InvalidArgumentError('q', `${term}: a path is keys separated by dots, e.g. args.user.id:42`);
  const condition: JobArgsCondition = { path, value: scalar(raw, term) };
  search.filter.args = [...(search.filter.args ?? []), condition];
}

/** A bare value is JSON when it reads as a number, true, false or null, else a string; a quoted one is always a string. */
function scalar(raw: string, term: string): JsonScalar {
  if (raw.startsWith('"')) return text(raw, term);
  if (raw.includes('"')) throw new InvalidArgumentError('q', `${term}: quote the whole value, e.g. args.email:"a b"`);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  if (NUMBER.test(raw)) {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new InvalidArgumentError('q', `${term}: the number is out of range`);
    return n;
  }
  return raw;
}

/** A term's text: a quoted string (JSON escapes) without its quotes, or the bare text, which may not hold a quote. */
function text(raw: string, term: string): string {
  if (raw.startsWith('"')) {
    if (raw.length < 2 || !raw.endsWith('"')) throw new InvalidArgumentError('q', `${term}: the quoted text must end the term`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new InvalidArgumentError('q', `${term}: not a valid quoted string`);
    }
    if (typeof parsed !== 'string') throw new InvalidArgumentError('q', `${term}: not a valid quoted string`);
    if (parsed === '') throw new InvalidArgumentError('q', `${term}: the quoted text is empty`);
    return parsed;
  }
  if (raw.includes('"')) throw new InvalidArgumentError('q', `${term}: quote the whole value`);
  return raw;
}

/** A single-valued filter; given again with another value it could match nothing, which is surely a mistake. */
function setOnce(search: DashboardSearch, field: 'queue' | 'nameOrSchedule', value: string, term: string, argument = 'q'): void {
  const current = search.filter[field];
  if (current !== undefined && current !== value)
    throw new InvalidArgumentError(argument, `${term} contradicts ${field === 'queue' ? 'queue' : 'name'} ${JSON.stringify(current)}`);
  search.filter[field] = value;
}

/** States given twice intersect (`state:dead state:dead,discarded` is dead). */
function setStates(search: DashboardSearch, list: string, term: string, argument = 'q'): void {
  const states = list.split(',');
  const bad = states.find((state) => !STATES.includes(state as JobState));
  if (bad !== undefined) throw new InvalidArgumentError(argument, `${term}: unknown state "${bad}" (known: ${STATES.join(', ')})`);
  const current = search.filter.states;
  search.filter.states = (current ? current.filter((state) => states.includes(state)) : [...new Set(states)]) as JobState[];
}

/**
 * Whether a job passes a search's filter, as a store would judge it: for
 * `id:`, whose job is read by id and must still meet the other terms.
 * @internal
 */
export function jobMatchesSearch(job: Job, filter: DashboardSearchFilter): boolean {
  return (
    (filter.states === undefined || filter.states.includes(job.state)) &&
    (filter.queue === undefined || job.queue === filter.queue) &&
    (filter.nameOrSchedule === undefined || job.name === filter.nameOrSchedule || job.schedule === filter.nameOrSchedule) &&
    (filter.nameContains ?? []).every((part) => nameContains(job.name, part)) &&
    (filter.tags ?? []).every((tag) => job.tags.includes(tag)) &&
    argsMatch(job.args, filter.args ?? [])
  );
}

/**
 * A `cursor` parameter: the id of the previous page's last job.
 * @throws InvalidArgumentError
 * @internal
 */
export function parseCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (!JOB_ID.test(cursor)) throw new InvalidArgumentError('cursor', "must be a job id (digits), the previous page's nextCursor");
  return cursor;
}
