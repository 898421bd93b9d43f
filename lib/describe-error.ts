import { isAxiosError } from 'axios';

/**
 * A one-line, secret-free description of a failed outbound call. Axios errors carry the
 * request config (and so the Authorization header): only the status or code is kept.
 */
export function describeError(error: unknown): string {
  if (isAxiosError(error)) {
    if (error.response) return `HTTP ${error.response.status}`;
    if (error.code === 'ERR_CANCELED' || error.code === 'ECONNABORTED' || /timeout/i.test(error.message)) return 'timed out';
    return error.code ?? 'request failed';
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
