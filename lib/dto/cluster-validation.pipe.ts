import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { liftStateValues } from './state-values.js';

/**
 * The controllers' ValidationPipe (whitelist, forbidNonWhitelisted, transform), with key/value
 * values kept out of class-transformer's hands (see liftStateValues): a value reaches the
 * engine exactly as its writer sent it, and the engine checks it.
 */
export class ClusterValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const lifted = liftStateValues(value);
    return lifted.restore(await super.transform(lifted.body, metadata));
  }
}
