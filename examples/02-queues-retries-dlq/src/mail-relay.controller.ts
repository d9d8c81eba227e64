import { Controller, HttpCode, Post } from '@nestjs/common';
import { MailRelay } from './send-receipt.worker.js';

/** The end of the simulated outage, as an operator's fix would be. */
@Controller('mail-relay')
export class MailRelayController {
  constructor(private readonly relay: MailRelay) {}

  @Post('up')
  @HttpCode(200)
  up() {
    this.relay.up = true;
    return { up: true };
  }
}
