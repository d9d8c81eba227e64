import { Injectable, Logger } from '@nestjs/common';

/**
 * Stands for the outside systems the steps talk to (stock, payments, a carrier): it keeps what
 * each call did, in order, so that the compensations can be seen. An app would call real services.
 */
@Injectable()
export class OrderService {
  private readonly logger = new Logger(OrderService.name);
  readonly calls: string[] = [];

  record(call: string): void {
    this.calls.push(call);
    this.logger.log(call);
  }
}
