import { Injectable, Module } from '@nestjs/common';
import type { SchedulerPorts } from './composition/scheduler.ports.js';

/**
 * One per Nest application: the scheduler of the first `SchedulerModule`
 * import to initialise. Later imports (a feature module importing the module
 * again) find it here and register nothing. Instances are never compared:
 * providers may be wrapped by an `instrument.instanceDecorator` proxy, and
 * this holder is shared by every import because its module is static.
 * @internal
 */
@Injectable()
export class SchedulerHost {
  private claimed = false;
  private current: SchedulerPorts | null = null;

  /** True for the first import to ask (it does the work); false for every later one. */
  claim(): boolean {
    if (this.claimed) return false;
    this.claimed = true;
    return true;
  }

  /** Called by the first import once its scheduler is composed. */
  attach(ports: SchedulerPorts): void {
    this.current = ports;
  }

  /** The composed scheduler's ports. @throws Error before the module has initialised. */
  get ports(): SchedulerPorts {
    if (!this.current) throw new Error('the scheduler is not initialised yet (SchedulerModule composes it in onModuleInit)');
    return this.current;
  }
}

/** Holds the {@link SchedulerHost}; static, so that every import of `SchedulerModule` shares one instance. @internal */
@Module({ providers: [SchedulerHost], exports: [SchedulerHost] })
export class SchedulerHostModule {}
