import { Controller, Get, UseGuards, UseInterceptors } from '@nestjs/common';
import { SchedulerService } from '../scheduler.service.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardErrorsInterceptor } from './dashboard-errors.interceptor.js';
import { nodeView, type DashboardNodeList } from './dashboard-node.views.js';

/**
 * `GET api/nodes`: the live nodes (`scheduler.nodes()`).
 * @internal
 */
@Controller()
@UseGuards(DashboardAccessGuard)
@UseInterceptors(DashboardErrorsInterceptor)
export class DashboardNodesController {
  constructor(private readonly scheduler: SchedulerService) {}

  /** One read of the node registry, the running jobs and the leader lease; not cached (a list of nodes is small). */
  @Get('api/nodes')
  async list(): Promise<DashboardNodeList> {
    return { nodes: (await this.scheduler.nodes()).map(nodeView) };
  }
}
