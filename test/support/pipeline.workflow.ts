import { Injectable } from '@nestjs/common';
import { Step, Workflow } from '../../lib/index.js';

/** A one-step workflow, `pipeline`, for tests that need a registered workflow to call. */
@Workflow({ name: 'pipeline' })
@Injectable()
export class Pipeline {
  @Step()
  fetch() {
    return { ok: 1 };
  }
}
