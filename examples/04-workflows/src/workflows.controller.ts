import { Body, Controller, Get, Header, HttpCode, Param, Post, UseFilters } from '@nestjs/common';
import { SchedulerService, type JsonObject } from 'nestjs-scheduler';
import { SchedulerErrorFilter } from './scheduler-error.filter.js';

@Controller('workflows')
@UseFilters(SchedulerErrorFilter)
export class WorkflowsController {
  constructor(private readonly scheduler: SchedulerService) {}

  /** Starts a run of a workflow with the JSON body as its context; the steps run in the background. */
  @Post(':name')
  @HttpCode(202)
  async start(@Param('name') name: string, @Body() context: JsonObject) {
    const runId = await this.scheduler.workflows.start(name, context);
    return { runId };
  }

  /** A run: its state, its context (every step's output merged) and each step's record. */
  @Get(':runId')
  async state(@Param('runId') runId: string) {
    const run = await this.scheduler.workflows.getState(runId);
    return { id: run.id, workflow: run.workflow, state: run.state, error: run.error, context: run.context, steps: run.steps };
  }

  /** The run as a Mermaid flowchart, each step classed by its state (paste it into any Mermaid viewer). */
  @Get(':runId/mermaid')
  @Header('content-type', 'text/plain; charset=utf-8')
  mermaid(@Param('runId') runId: string) {
    return this.scheduler.workflows.toMermaid(runId);
  }
}
