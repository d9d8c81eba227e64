import { BadRequestException, Catch, NotFoundException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { InvalidArgumentError, JobNotFoundError } from 'nestjs-scheduler';

/**
 * The client's mistakes, with the scheduler's message: an unknown workflow name or run id is a 404,
 * a context that is not a JSON object a 400 (not a 500).
 */
@Catch(JobNotFoundError, InvalidArgumentError)
export class SchedulerErrorFilter extends BaseExceptionFilter implements ExceptionFilter {
  override catch(error: JobNotFoundError | InvalidArgumentError, host: ArgumentsHost) {
    super.catch(error instanceof JobNotFoundError ? new NotFoundException(error.message) : new BadRequestException(error.message), host);
  }
}
