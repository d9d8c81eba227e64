import { Injectable, Logger } from '@nestjs/common';
import type { DeadLetter, DeadLetterHandler } from 'nestjs-scheduler';

/** `deadLetters.onDeadLetter`: runs once per dead job. An app would page someone or open a ticket. */
@Injectable()
export class DeadLetterAlerts implements DeadLetterHandler {
  private readonly logger = new Logger('DeadLetters');
  readonly alerts: string[] = [];

  handle(entry: DeadLetter): void {
    const line = `${entry.name} ${entry.id} died after ${entry.attempts} attempts: ${entry.errors.at(-1)?.message}`;
    this.alerts.push(line);
    this.logger.error(line);
  }
}
