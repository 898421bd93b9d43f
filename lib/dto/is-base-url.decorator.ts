import { ValidateBy, type ValidationOptions } from 'class-validator';
import { isValidBaseUrl, MAX_BASE_URL_LENGTH } from '../core/base-url.js';

/** An absolute http(s) URL without credentials, query or fragment, as `normalizeBaseUrl` accepts. */
export function IsBaseUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBaseUrl',
      validator: {
        validate: (value: unknown) => isValidBaseUrl(value),
        defaultMessage: (args) =>
          `${args?.property ?? 'baseUrl'} must be an absolute http(s) URL of at most ${MAX_BASE_URL_LENGTH} characters, without credentials, query or fragment`,
      },
    },
    options,
  );
}
