/**
 * Base URLs (lib/core/base-url.ts), pinned where base-url.spec.ts leaves room
 * (docs/mutation.md, "second pass"). address-conflict.ts and peer-book.ts have no survivor
 * left that a test could kill: their equivalent mutants are listed in docs/mutation.md.
 */
import { InvalidBaseUrlError, normalizeBaseUrl } from '../../lib/core/index.js';

describe('normalizeBaseUrl, a missing value', () => {
  it.each([undefined, null])('refuses %s (a JavaScript caller that passed no URL) as empty, with its own error', (raw) => {
    const attempt = () => normalizeBaseUrl(raw as unknown as string);
    expect(attempt).toThrow(InvalidBaseUrlError);
    expect(attempt).toThrow('invalid base URL: empty');
  });
});
