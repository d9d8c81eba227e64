import { Controller, Get, Query, UseGuards, UseInterceptors } from '@nestjs/common';
import { InvalidArgumentError } from '../scheduler.errors.js';
import { SchedulerHost } from '../scheduler.host.js';
import { asciiLower } from '../store/search-conditions.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { DashboardStats } from './dashboard-stats.service.js';

/** What `GET api/search/suggest` answers: known names starting with the prefix, sorted. @publicApi */
export interface DashboardSearchSuggestions {
  prefix: string;
  /** Queues: configured on this node, of registered handlers, or in the overview's snapshot; at most {@link SUGGESTIONS_PER_KIND}. */
  queues: string[];
  /** Registered handlers and schedules (what `name:` matches); at most {@link SUGGESTIONS_PER_KIND}. */
  names: string[];
  /** Tags the registered handlers give their jobs; at most {@link SUGGESTIONS_PER_KIND}. */
  tags: string[];
}

/**
 * How many suggestions of each kind one answer holds.
 * @publicApi
 */
export const SUGGESTIONS_PER_KIND = 20;
const MAX_PREFIX_LENGTH = 200;

/**
 * `GET api/search/suggest?prefix=`: autocomplete for the jobs search. Read
 * from this node's registry and configuration and the overview's shared
 * snapshot (one store read per `statsCacheMs`, whatever the keystrokes), so
 * no request scans the jobs.
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardSearchController {
  constructor(
    private readonly host: SchedulerHost,
    private readonly stats: DashboardStats,
  ) {}

  /** Matches by prefix, ignoring the case of ASCII letters (as the search's free text does); an empty prefix lists the first of each. */
  @Get('api/search/suggest')
  async suggest(@Query('prefix') prefix: string = ''): Promise<DashboardSearchSuggestions> {
    if (typeof prefix !== 'string') throw new InvalidArgumentError('prefix', 'must be given once, as text');
    if (prefix.length > MAX_PREFIX_LENGTH) throw new InvalidArgumentError('prefix', `must be at most ${MAX_PREFIX_LENGTH} characters`);
    const { registry, queueSpecs } = this.host.ports.service;
    // The scheduler's own handlers (workflow steps, starts) would crowd out the application's.
    const definitions = registry.allDefinitions().filter((d) => !d.internal);
    const overview = await this.stats.overview();
    const queues = [...definitions.map((d) => d.options.queue), ...(queueSpecs?.keys() ?? []), ...overview.queues.map((q) => q.queue)];
    const names = [...definitions.map((d) => d.name), ...registry.allSchedules().map((s) => s.name)];
    const tags = definitions.flatMap((d) => d.options.tags);
    return { prefix, queues: startingWith(queues, prefix), names: startingWith(names, prefix), tags: startingWith(tags, prefix) };
  }
}

function startingWith(values: readonly string[], prefix: string): string[] {
  const wanted = asciiLower(prefix);
  const found = [...new Set(values)].filter((value) => asciiLower(value).startsWith(wanted));
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, SUGGESTIONS_PER_KIND);
}
