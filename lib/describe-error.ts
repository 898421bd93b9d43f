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
  // duck-typed: errors from another realm (vm contexts, workers) fail `instanceof Error`
  if (typeof error === 'object' && error !== null && typeof (error as Error).message === 'string') {
    const { code, message } = error as NodeJS.ErrnoException;
    return code && !message.startsWith(code) ? `${code}: ${message}` : message;
  }
  return String(error);
}
