import { canonicalJson } from '../security/canonical-json.js';
import { signRequest } from '../security/request-signature.js';

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
  /** The secret that signs: the first of the comma-separated list in the environment. */
  secret: string;
  body?: unknown;
}

export interface SignedResponse {
  status: number;
  text: string;
}

/**
 * The Authorization header for one request to the server at `targetBaseUrl`. Every signature
 * the CLI makes comes from here, so a change to what a signature covers is made in one place.
 */
export function signatureFor(
  targetBaseUrl: string | undefined,
  request: { method: string; path: string; cluster: string; secret: string; body?: unknown; canonicalBody?: string },
): string {
  void targetBaseUrl; // not covered by the signature yet
  const { secret, ...input } = request;
  return signRequest(secret, input);
}

/** The logical path a signature covers: `/<prefix>/<endpoint>`, whatever the base URL's own path. */
export function signedPath(prefix: string, endpoint: string): string {
  return `/${prefix}/${endpoint}`;
}

/**
 * Sends one signed request to the server at `targetBaseUrl` and returns its answer, whatever
 * its status. The body sent is the canonical JSON the signature covers, byte for byte.
 * Redirects are never followed. Network failures reject (see `describeFetchFailure`).
 */
export async function signedRequest(targetBaseUrl: string, call: SignedCall, connection: ConnectionSettings): Promise<SignedResponse> {
  const path = signedPath(connection.prefix, call.endpoint);
  const sent = call.body === undefined ? undefined : canonicalJson(call.body);
  const authorization = signatureFor(targetBaseUrl, { method: call.method, path, cluster: connection.cluster, secret: call.secret, body: call.body, canonicalBody: sent });
  const url = new URL(path.slice(1), targetBaseUrl.endsWith('/') ? targetBaseUrl : `${targetBaseUrl}/`);
  const response = await fetch(url, {
    method: call.method,
    headers: { authorization, ...(sent === undefined ? {} : { 'content-type': 'application/json' }) },
    body: sent,
    redirect: 'manual',
    signal: AbortSignal.timeout(connection.timeoutMs),
  });
  return { status: response.status, text: await response.text() };
}
