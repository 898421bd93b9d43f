import type { Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { liftStateValues } from './state-values.js';

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) => (parent ? `${parent}.${text}` : text));
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/**
 * Validates a parsed body against a DTO the way the controllers' ValidationPipe does
 * (class-transformer's plainToInstance with key/value values lifted out, then class-validator's
 * validate with `whitelist`), for the plain-function API and for replies from peers. Resolves
 * with the instance or with the field messages. `strict: false` strips unknown fields instead
 * of refusing them (replies from newer peers may carry more).
 */
export async function validateBody<T extends object>(
  dto: Type<T>,
  body: unknown,
  strict = true,
): Promise<{ value: T; errors: [] } | { value: undefined; errors: string[] }> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { value: undefined, errors: ['body must be a JSON object'] };
  }
  // key/value values pass through untouched, as in ClusterValidationPipe
  const lifted = liftStateValues(body);
  const instance = lifted.restore(plainToInstance(dto, lifted.body));
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: strict });
  return errors.length ? { value: undefined, errors: flatten(errors) } : { value: instance, errors: [] };
}
