import { endpointUrl } from '../core/base-url.js';
import { canonicalJson } from '../security/canonical-json.js';
import { signRequest } from '../security/request-signature.js';
import { secretFrom } from './cli-environment.js';
import { refused, unreachable, type RequestContext } from './request-failures.js';

/** Where and as which cluster the CLI talks: `SHAZBOT_CLUSTER` and `--prefix` must match the servers. */
export interface ConnectionSettings {
  /** Route prefix of the library's endpoints, without slashes (default `clustershazbot`). */
  prefix: string;
  /** Cluster name inside every signature (`SHAZBOT_CLUSTER`, default `default`). */
  cluster: string;
  /** Deadline of each request, ms. */
  timeoutMs: number;
}

/** One signed call to one of a server's endpoints (`list`, `state`, `control`…). */
export interface SignedCall {
  method: 'GET' | 'POST';
  endpoint: string;
  /** The variable whose first secret signs: control takes the control secret, the rest the gossip secret. */
  secretVariable: 'SHAZBOT_SECRET' | 'SHAZBOT_CONTROL_SECRET';
  body?: unknown;
}

export interface SignedResponse {
  status: number;
  text: string;
  /** The Location header of a redirect (never followed). */
  location: string | null;
}

/**
 * The Authorization header for one request to the server at `targetBaseUrl`. Every signature
 * the CLI makes comes from here, so a change to what a signature covers is made in one place.
 */
export function signatureFor(
  targetBaseUrl: string | undefined,
  request: { method: string; path: string; cluster: string; secret: string; body?: unknown; canonicalBody?: string },
): string {
  void targetBaseUrl; // not covered by signatures yet; every caller passes it for when it is
  const { secret, ...input } = request;
  return signRequest(secret, input);
}

/** The logical path a signature covers: `/<prefix>/<endpoint>`, whatever the base URL's own path. */
export function signedPath(prefix: string, endpoint: string): string {
  return `/${prefix}/${endpoint}`;
}

function contextOf(targetBaseUrl: string, call: SignedCall, connection: ConnectionSettings): RequestContext {
  return { baseUrl: targetBaseUrl, endpoint: call.endpoint, prefix: connection.prefix, cluster: connection.cluster, secretVariable: call.secretVariable, timeoutMs: connection.timeoutMs };
}

/**
 * Sends one signed request to the server at `targetBaseUrl` (a normalised base URL) and
 * returns its answer, whatever its status. The body sent is the canonical JSON the signature
 * covers, byte for byte; redirects are never followed.
 * @throws UsageError when the secret's variable is unset
 * @throws UnreachableError when no HTTP answer came (refused, unknown host, `timeoutMs` passed)
 */
export async function signedRequest(targetBaseUrl: string, call: SignedCall, connection: ConnectionSettings): Promise<SignedResponse> {
  const path = signedPath(connection.prefix, call.endpoint);
  const sent = call.body === undefined ? undefined : canonicalJson(call.body);
  const secret = secretFrom(call.secretVariable);
  const authorization = signatureFor(targetBaseUrl, { method: call.method, path, cluster: connection.cluster, secret, body: call.body, canonicalBody: sent });
  try {
    const response = await fetch(endpointUrl(targetBaseUrl, connection.prefix, call.endpoint), {
      method: call.method,
      headers: { authorization, ...(sent === undefined ? {} : { 'content-type': 'application/json' }) },
      body: sent,
      redirect: 'manual',
      signal: AbortSignal.timeout(connection.timeoutMs),
    });
    return { status: response.status, text: await response.text(), location: response.headers.get('location') };
  } catch (error) {
    throw unreachable(error, contextOf(targetBaseUrl, call, connection));
  }
}

/**
 * `signedRequest`, then the answer's JSON.
 * @throws RefusedError on a status other than 2xx (the message says what to fix: secret,
 *   cluster, prefix…) or when the answer is not JSON
 * @throws UnreachableError, UsageError as `signedRequest`
 */
export async function signedJson(targetBaseUrl: string, call: SignedCall, connection: ConnectionSettings): Promise<unknown> {
  const response = await signedRequest(targetBaseUrl, call, connection);
  return jsonOf(response, targetBaseUrl, call, connection);
}

/** The JSON of a 2xx answer. @throws RefusedError otherwise */
export function jsonOf(response: SignedResponse, targetBaseUrl: string, call: SignedCall, connection: ConnectionSettings): unknown {
  const context = contextOf(targetBaseUrl, call, connection);
  if (response.status < 200 || response.status >= 300) throw refused(response.status, response.text, context, response.location);
  try {
    return JSON.parse(response.text);
  } catch {
    throw refused(response.status, `not JSON: ${response.text}`, context);
  }
}

/** For raw output: the refusal's explanation of a non-2xx answer. */
export function explainRefusal(response: SignedResponse, targetBaseUrl: string, call: SignedCall, connection: ConnectionSettings): string {
  return refused(response.status, response.text, contextOf(targetBaseUrl, call, connection), response.location).message;
}
