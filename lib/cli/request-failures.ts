import { RefusedError, UnreachableError } from './cli-errors.js';

/** What the CLI was doing, for messages that say what to fix. */
export interface RequestContext {
  /** Where the request was sent. */
  baseUrl: string;
  /** The base URL its signature was for (`baseUrl` unless --member named another). */
  signedFor: string;
  endpoint: string;
  prefix: string;
  cluster: string;
  /** The environment variable whose secret signed the request. */
  secretVariable: 'SHAZBOT_SECRET' | 'SHAZBOT_CONTROL_SECRET';
  timeoutMs: number;
}

/**
 * A failed fetch (no HTTP answer) as one line naming the cause: undici's `TypeError('fetch
 * failed')` carries the system error as `cause`; a timeout is an AbortSignal's `TimeoutError`.
 */
export function unreachable(error: unknown, context: RequestContext): UnreachableError {
  const at = `cannot reach ${context.baseUrl}`;
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return new UnreachableError(`${at}: no answer within ${context.timeoutMs / 1000} s (--request-timeout)`);
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const code = cause?.code;
  const { hostname, port, protocol } = new URL(context.baseUrl);
  const hostPort = `${hostname}:${port || (protocol === 'https:' ? 443 : 80)}`;
  if (code === 'ECONNREFUSED') return new UnreachableError(`${at}: connection refused (nothing listens on ${hostPort})`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UnreachableError(`${at}: host ${hostname} not found`);
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return new UnreachableError(`${at}: the connection was closed before an answer (is it an HTTP server of the cluster?)`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new UnreachableError(`${at}: no route to ${hostname}`);
  if (code?.startsWith('ERR_TLS') || code?.includes('CERT') || code === 'EPROTO') return new UnreachableError(`${at}: TLS failed (${code})`);
  return new UnreachableError(`${at}: ${code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))}`);
}

/**
 * An HTTP answer other than 2xx as one line that says what to fix. The body is shown only for
 * statuses without a known meaning, shortened: servers never put secrets in their answers.
 */
export function refused(status: number, body: string, context: RequestContext, location?: string | null): RefusedError {
  const at = `${context.baseUrl}`;
  switch (status) {
    case 401: {
      // a signature names the verifier's own base URL, and its 401 does not say which line failed
      const signedForTarget = context.signedFor === context.baseUrl;
      const target = signedForTarget
        ? `${at} is not the server's own base URL (SHAZBOT_BASE_URL), which a signature must name: through a tunnel or proxy, pass --member <the server's base URL>`
        : `${context.signedFor} (--member) is not that server's own base URL (SHAZBOT_BASE_URL), which a signature must name`;
      return new RefusedError(
        `${at} refused the signature${signedForTarget ? '' : ` made for ${context.signedFor}`} (401 Unauthorized): ${context.secretVariable} holds none of its secrets; ` +
          `or ${target}; or this machine's clock is off the server's by more than the signature window (SHAZBOT_SIGNATURE_WINDOW, default 300 s)`,
        status,
      );
    }
    case 403:
      return new RefusedError(
        `${at} belongs to another cluster (403 Forbidden): the request was signed for cluster "${context.cluster}"; ` +
          `set SHAZBOT_CLUSTER to the servers' cluster name`,
        status,
      );
    case 404:
      return new RefusedError(
        `${at} has no ${context.endpoint} endpoint at /${context.prefix}/${context.endpoint} (404 Not Found): ` +
          `is the URL the server's base URL, and --prefix (now "${context.prefix}") its route prefix?`,
        status,
      );
    case 429:
      return new RefusedError(`${at} refuses this address for now (429: too many failed authentications); check ${context.secretVariable}, then retry in a minute`, status);
    case 503:
      return new RefusedError(`${at} is not running the cluster yet or any more (503 Service Unavailable)`, status);
  }
  if (status >= 300 && status < 400) {
    return new RefusedError(`${at} answered with a redirect (${status}${location ? ` to ${location}` : ''}); redirects are not followed: pass the server's base URL`, status);
  }
  const excerpt = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  return new RefusedError(`${at} answered ${status} to ${context.endpoint}${excerpt ? `: ${excerpt}` : ''}`, status);
}
