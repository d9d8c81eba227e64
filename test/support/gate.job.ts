import { Injectable } from '@nestjs/common';
import { Scheduled, type JobContext } from '../../lib/index.js';

/** A job (`gate`) whose runs stay open until released, to observe concurrency, order and buffering. */
@Injectable()
export class Gate {
  started: string[] = [];
  open = new Map<string, () => void>();
  @Scheduled({ name: 'gate' })
  run(ctx: JobContext<{ id: string }>) {
    this.started.push(ctx.args.id);
    return new Promise<void>((resolve) => this.open.set(ctx.args.id, resolve));
  }
  release(id: string) {
    this.open.get(id)?.();
    this.open.delete(id);
  }
}
