import { ValidationPipe, type ArgumentMetadata, type Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { compiledCheck } from './compiled-validation.js';

/** The options of the pipe on the library's own controllers: the host needs no global pipe. */
export const STRICT_VALIDATION = { whitelist: true, forbidNonWhitelisted: true, transform: true } as const;

/**
 * The ValidationPipe, with the compiled fast path in front: a body it accepts is passed on as
 * it came (plain objects, the same data the pipe's instances would hold); anything else goes
 * through the full pipe, which decides and writes the messages.
 */
export class CompiledValidationPipe extends ValidationPipe {
  constructor() {
    super(STRICT_VALIDATION);
  }

  // not async: a body the check accepts is returned as it is, without a promise per request
  // (Nest awaits whatever a pipe returns); the full pipe's promise is passed on
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the base class returns Promise<any>
  override transform(value: unknown, metadata: ArgumentMetadata): any {
    const check = metadata.type === 'body' && metadata.metatype ? compiledCheck(metadata.metatype) : null;
    if (check?.(value)) return value;
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new CompiledValidationPipe();
}

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) => (parent ? `${parent}.${text}` : text));
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/**
 * Validates a parsed body against a DTO the way the controllers' pipe does (for the
 * plain-function API and for replies from peers). Resolves with the instance or with the
 * field messages. `strict: false` strips unknown fields instead of refusing them (replies from
 * newer peers may carry more).
 */
export async function validateBody<T extends object>(
  dto: Type<T>,
  body: unknown,
  strict = true,
): Promise<{ value: T; errors: [] } | { value: undefined; errors: string[] }> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { value: undefined, errors: ['body must be a JSON object'] };
  }
  if (compiledCheck(dto)?.(body)) return { value: body as T, errors: [] };
  const instance = plainToInstance(dto, body);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: strict });
  return errors.length ? { value: undefined, errors: flatten(errors) } : { value: instance, errors: [] };
}
