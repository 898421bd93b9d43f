/** Base URLs identify servers, so every place that compares them uses this one normal form. */

export const MAX_BASE_URL_LENGTH = 2048;

export class InvalidBaseUrlError extends Error {
  constructor(reason: string) {
    super(`invalid base URL: ${reason}`);
    this.name = 'InvalidBaseUrlError';
  }
}

/**
 * Normal form: http or https, lower-case host, no default port, no credentials, query or
 * fragment, path ending in `/`. IPv6 hosts stay in brackets (`http://[::1]:3000/`).
 * @throws InvalidBaseUrlError
 */
export function normalizeBaseUrl(raw: string): string {
  const known = typeof raw === 'string' ? normalized.get(raw) : undefined;
  if (known !== undefined) return known;
  const result = parseBaseUrl(raw);
  // every message repeats the same few URLs: parse each once (bounded: cleared when full)
  if (normalized.size >= NORMALIZED_CACHE_SIZE) normalized.clear();
  normalized.set(raw, result);
  return result;
}

const NORMALIZED_CACHE_SIZE = 4096;
const normalized = new Map<string, string>();

function parseBaseUrl(raw: string): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new InvalidBaseUrlError('empty');
  if (raw.length > MAX_BASE_URL_LENGTH) throw new InvalidBaseUrlError(`longer than ${MAX_BASE_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidBaseUrlError('not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidBaseUrlError('only http and https are allowed');
  if (url.username || url.password) throw new InvalidBaseUrlError('credentials are not allowed');
  if (url.search || url.hash) throw new InvalidBaseUrlError('query and fragment are not allowed');
  if (!url.hostname) throw new InvalidBaseUrlError('no host');
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.toString();
}

export function isValidBaseUrl(raw: unknown): boolean {
  if (typeof raw !== 'string') return false;
  try {
    normalizeBaseUrl(raw);
    return true;
  } catch {
    return false;
  }
}

/** The URL of one of a server's endpoints, e.g. `endpointUrl('http://a:1/svc/', 'clustershazbot', 'gossip')`. */
export function endpointUrl(baseUrl: string, routePrefix: string, endpoint: string): string {
  const prefix = routePrefix.replace(/^\/+|\/+$/g, '');
  return new URL(prefix ? `${prefix}/${endpoint}` : endpoint, baseUrl).toString();
}
