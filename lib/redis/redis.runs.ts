import { checkRun, copyRun } from '../store/workflow-runs.js';
import {
  DEFAULT_RUN_LIST_LIMIT,
  FINISHED_RUN_STATES,
  type NewWorkflowRun,
  type StepRun,
  type WorkflowRun,
  type WorkflowRunFilter,
} from '../store/workflow-run.types.js';
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from './redis.client.js';
import { deleteInSlices } from '../store/delete-in-slices.js';

/** How long a run's lock outlives a node that died holding it, in ms. */
const RUN_LOCK_MS = 10_000;

/**
 * Workflow runs of a Redis store (scripts/runs.lua.ts): one JSON text per
 * run, dates as epoch ms. `updateRun` runs `mutate` in this process, so it
 * holds the run's lock (`runlock:<id>`, SET NX PX with a token of its own)
 * from the read to the save: `mutate` is called once per update and sees
 * the result of the one before. Calls of one process wait in line here
 * first, so only calls of different nodes wait on the lock. A node that
 * dies holding it delays the run by {@link RUN_LOCK_MS} at most, and the
 * save still checks that the run is as read.
 * @internal
 */
export class RedisRuns {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly redis: RedisConnection) {}

  async create(input: NewWorkflowRun, now: Date): Promise<WorkflowRun> {
    checkRun(input, 'run');
    const run: WorkflowRun = copyRun({ ...input, id: '', seq: 0, error: null, createdAt: now, updatedAt: now, finishedAt: null });
    const { id: _, ...rest } = encodeRun(run);
    const id = (await this.redis.run('schedCreateRun', JSON.stringify(rest), run.workflow, run.state, '')) as string;
    return { ...run, id: String(id) };
  }

  async get(id: string): Promise<WorkflowRun | null> {
    const text = await this.redis.client.hget(`${this.redis.base}run:${id}`, 'j');
    return text === null ? null : decodeRun(text);
  }

  update(id: string, now: Date, mutate: (run: WorkflowRun) => WorkflowRun | null): Promise<WorkflowRun | null> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.then(
      () => this.locked(id, () => this.updateOnce(id, now, mutate)),
      () => this.locked(id, () => this.updateOnce(id, now, mutate)),
    );
    const tail = next.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return next;
  }

  private async locked<T>(id: string, body: () => Promise<T>): Promise<T> {
    const key = `${this.redis.base}runlock:${id}`;
    const token = randomUUID();
    for (let wait = 2; (await this.redis.client.set(key, token, 'PX', RUN_LOCK_MS, 'NX')) !== 'OK'; wait = Math.min(wait * 2, 50)) {
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    try {
      return await body();
    } finally {
      await this.redis.run('schedUnlock', `runlock:${id}`, token);
    }
  }

  private async updateOnce(id: string, now: Date, mutate: (run: WorkflowRun) => WorkflowRun | null): Promise<WorkflowRun | null> {
    for (;;) {
      const text = await this.redis.client.hget(`${this.redis.base}run:${id}`, 'j');
      if (text === null) return null;
      const current = decodeRun(text);
      const next = mutate(copyRun(current));
      if (next === null) return current;
      checkRun(next, 'mutate');
      const saved = copyRun({ ...next, id: current.id, createdAt: current.createdAt, updatedAt: now });
      const finished = FINISHED_RUN_STATES.includes(saved.state) && saved.finishedAt ? String(saved.finishedAt.getTime()) : '';
      const ok = await this.redis.run('schedSaveRun', id, text, JSON.stringify(encodeRun(saved)), saved.state, finished);
      if (Number(ok) === 1) return saved;
    }
  }

  async list(filter: WorkflowRunFilter): Promise<WorkflowRun[]> {
    if (filter.states?.length === 0) return [];
    const limit = filter.limit ?? DEFAULT_RUN_LIST_LIMIT;
    const texts = (await this.redis.run(
      'schedListRuns',
      filter.workflow ?? '',
      Math.min(limit, 2 ** 31 - 1),
      filter.afterId ?? '',
      ...(filter.states ?? []),
    )) as string[];
    return texts.map(decodeRun);
  }

  /** In script calls of 1,000 (a long script stalls every client of the server). */
  async delete(before: Date, limit: number): Promise<number> {
    if (!(limit > 0)) return 0;
    return deleteInSlices(Math.min(limit, 2 ** 31 - 1), async (n) => Number(await this.redis.run('schedDeleteRuns', before.getTime(), n)));
  }
}

type Stored<T> = { [K in keyof T]: T[K] extends Date ? number : T[K] extends Date | null ? number | null : T[K] };

function ms(date: Date | null): number | null {
  return date ? date.getTime() : null;
}
function at(value: number | null): Date | null {
  return value === null ? null : new Date(value);
}

function encodeRun(run: WorkflowRun): Stored<Omit<WorkflowRun, 'steps'>> & { steps: Record<string, Stored<StepRun>> } {
  return {
    ...run,
    runAt: ms(run.runAt),
    createdAt: run.createdAt.getTime(),
    updatedAt: run.updatedAt.getTime(),
    finishedAt: ms(run.finishedAt),
    steps: Object.fromEntries(
      Object.entries(run.steps).map(([name, step]) => [name, { ...step, startedAt: ms(step.startedAt), finishedAt: ms(step.finishedAt) }]),
    ),
  };
}

function decodeRun(text: string): WorkflowRun {
  const raw = JSON.parse(text) as ReturnType<typeof encodeRun>;
  return {
    ...raw,
    runAt: at(raw.runAt),
    createdAt: new Date(raw.createdAt),
    updatedAt: new Date(raw.updatedAt),
    finishedAt: at(raw.finishedAt),
    steps: Object.fromEntries(
      Object.entries(raw.steps).map(([name, step]) => [name, { ...step, startedAt: at(step.startedAt), finishedAt: at(step.finishedAt) }]),
    ),
  };
}
