import { randomBytes } from 'node:crypto';
import { endpointUrl } from '../core/base-url.js';
import { canonicalJson } from '../security/canonical-json.js';
import { REPLY_SIGNATURE_HEADER, verifyReply } from '../security/reply-signature.js';
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
  /**
   * The URL's query, e.g. `{ include: 'all' }`: sent, not signed (a server verifies the path
   * `/<prefix>/<endpoint>` only, see security/request-signature.ts).
   */
  query?: Record<string, string>;
  /**
   * The base URL the signature is for: the verifying server's own (its SHAZBOT_BASE_URL), when
   * the request reaches it at another URL (a tunnel, a proxy, a port forward); normalised.
   * Default: the URL the request is sent to. A server accepts only signatures naming its own.
   */
  signedFor?: string;
}

export interface SignedResponse {
  status: number;
  text: string;
  /** The Location header of a redirect (never followed). */
  location: string | null;
  /** Whether the answer carries a valid Shazbot-Signature for this request (a server of ours holding the secret sent it). */
  authenticated: boolean;
}

/**
 * The Authorization header for one request to the server at `targetBaseUrl` (its own base URL,
 * SHAZBOT_BASE_URL: a signature is good only there). Every signature the CLI makes comes from
 * here. `ts` and `nonce` default to now and a fresh one.
 */
export function signatureFor(
  targetBaseUrl: string,
  request: { method: string; path: string; cluster: string; secret: string; body?: unknown; canonicalBody?: string },
  ts?: number,
  nonce?: string,
): string {
  const { secret, ...input } = request;
  return signRequest(secret, { ...input, target: targetBaseUrl }, ts, nonce);
}

/** The logical path a signature covers: `/<prefix>/<endpoint>`, whatever the base URL's own path. */
export function signedPath(prefix: string, endpoint: string): string {
  return `/${prefix}/${endpoint}`;
}

/** Where a call goes: the endpoint's URL, with its query when it has one. */
function urlOf(targetBaseUrl: string, call: SignedCall, connection: ConnectionSettings): string {
  const url = endpointUrl(targetBaseUrl, connection.prefix, call.endpoint);
  return call.query ? `${url}?${new URLSearchParams(call.query).toString()}` : url;
}

function contextOf(targetBaseUrl: string, call: SignedCall, connection: ConnectionSettings): RequestContext {
  return { baseUrl: targetBaseUrl, signedFor: call.signedFor ?? targetBaseUrl, endpoint: call.endpoint, prefix: connection.prefix, cluster: connection.cluster, secretVariable: call.secretVariable, timeoutMs: connection.timeoutMs };
}

/**
 * Sends one signed request to the server at `targetBaseUrl` (a normalised base URL), signed for
 * `call.signedFor` (default: `targetBaseUrl`), and returns its answer, whatever its status. The body sent is the canonical JSON the signature
 * covers, byte for byte; redirects are never followed.
 * @throws UsageError when the secret's variable is unset
 * @throws UnreachableError when no HTTP answer came (refused, unknown host, `timeoutMs` passed)
 */
export async function signedRequest(targetBaseUrl: string, call: SignedCall, connection: ConnectionSettings): Promise<SignedResponse> {
  const path = signedPath(connection.prefix, call.endpoint);
  const sent = call.body === undefined ? undefined : canonicalJson(call.body);
  const secret = secretFrom(call.secretVariable);
  // the offset to the server's clock, learnt from a signed 401 (the server started after our stamp, by its clock)
  let offset = 0;
  for (let attempt = 0; ; attempt++) {
    const nonce = randomBytes(16).toString('base64url');
    const sentAt = Date.now();
    const authorization = signatureFor(call.signedFor ?? targetBaseUrl, { method: call.method, path, cluster: connection.cluster, secret, body: call.body, canonicalBody: sent }, sentAt + offset, nonce);
    let response: Response;
    let raw: Buffer;
    try {
      response = await fetch(urlOf(targetBaseUrl, call, connection), {
        method: call.method,
        headers: { authorization, ...(sent === undefined ? {} : { 'content-type': 'application/json' }) },
        body: sent,
        redirect: 'manual',
        signal: AbortSignal.timeout(connection.timeoutMs),
      });
      raw = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      throw unreachable(error, contextOf(targetBaseUrl, call, connection));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const proof = verifyReply(response.headers.get(REPLY_SIGNATURE_HEADER), [secret], { nonce, status: response.status, rawBody: raw, body: parsed });
    if (response.status === 401 && proof.ok && attempt === 0) {
      offset = proof.ts - Math.round((sentAt + Date.now()) / 2);
      continue;
    }
    return { status: response.status, text: raw.toString('utf8'), location: response.headers.get('location'), authenticated: proof.ok };
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
  // an answer that is not signed for our request did not come from a server holding the secret
  if (!response.authenticated) throw refused(response.status, 'the answer is not signed for this request: it did not come from a server of this cluster holding the secret', context);
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
