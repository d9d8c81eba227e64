import { Logger } from '@nestjs/common';
import { Step, Workflow, type StepContext } from '../lib/index.js';

/**
 * A workflow: a DAG of steps. Each step runs as a job (its own retries,
 * timeout, queue and span), and the object it returns is merged into the
 * run's context, which the next steps read as `ctx.context`.
 *
 *   createAccount ─┬─ provisionWorkspace ─┬─ startTrial (if plan is 'trial') ─┬─ notifyTeam
 *                  └─ sendWelcomeEmail ───┴─ chargeCard (otherwise) ──────────┘
 *
 * Start a run with `scheduler.workflows.start('onboarding', { email, plan })`.
 * `cardDeclined: true` in the context makes `chargeCard` fail (no retry):
 * the run fails and `provisionWorkspace` is rolled back by `deleteWorkspace`.
 */
@Workflow({ name: 'onboarding' })
export class OnboardingWorkflow {
  private readonly logger = new Logger(OnboardingWorkflow.name);

  @Step()
  createAccount(ctx: StepContext): { accountId: string } {
    const accountId = `acc-${ctx.runId}`;
    this.logger.log(`run ${ctx.runId}: createAccount for ${String(ctx.context.email)} → ${accountId}`);
    return { accountId };
  }

  /** Two steps after `createAccount`: they may run at the same time. */
  @Step({ after: 'createAccount', rollback: 'deleteWorkspace' })
  provisionWorkspace(ctx: StepContext): { workspaceId: string } {
    const workspaceId = `ws-${String(ctx.context.accountId)}`;
    this.logger.log(`run ${ctx.runId}: provisionWorkspace → ${workspaceId}`);
    return { workspaceId };
  }

  @Step({ after: 'createAccount' })
  sendWelcomeEmail(ctx: StepContext): { welcomeSent: boolean } {
    this.logger.log(`run ${ctx.runId}: sendWelcomeEmail to ${String(ctx.context.email)}`);
    return { welcomeSent: true };
  }

  /** A branch: exactly one of `startTrial` and `chargeCard` runs; the other is skipped. */
  @Step({ after: ['provisionWorkspace', 'sendWelcomeEmail'], when: (context) => context.plan === 'trial' })
  startTrial(ctx: StepContext): { trialDays: number } {
    this.logger.log(`run ${ctx.runId}: startTrial for ${String(ctx.context.accountId)} (14 days)`);
    return { trialDays: 14 };
  }

  @Step({ after: ['provisionWorkspace', 'sendWelcomeEmail'], when: (context) => context.plan !== 'trial', maxRetries: 0 })
  chargeCard(ctx: StepContext): { charged: string } {
    if (ctx.context.cardDeclined === true) {
      this.logger.warn(`run ${ctx.runId}: chargeCard declined for ${String(ctx.context.accountId)}`);
      throw new Error('card declined (simulated)');
    }
    this.logger.log(`run ${ctx.runId}: chargeCard for plan ${String(ctx.context.plan)}`);
    return { charged: String(ctx.context.plan) };
  }

  /** After both branch steps: the skipped one counts as finished. */
  @Step({ after: ['startTrial', 'chargeCard'] })
  notifyTeam(ctx: StepContext): { teamNotified: boolean } {
    this.logger.log(`run ${ctx.runId}: notifyTeam (context: ${JSON.stringify(ctx.context)})`);
    return { teamNotified: true };
  }

  /** The rollback of `provisionWorkspace` (a plain method, not a step): runs when the run fails. */
  deleteWorkspace(ctx: StepContext): void {
    this.logger.warn(`run ${ctx.runId}: deleteWorkspace ${String(ctx.context.workspaceId)} (rollback)`);
  }
}
