import type { ClusterConfig } from '../clustershazbot.options.js';
import { messages } from '../clustershazbot.messages.js';
import { canonicalJson, MAX_JSON_DEPTH, nestedDeeperThan } from '../security/canonical-json.js';
import type { FailedAuthLimiter } from '../security/failed-auth-limiter.js';
import { signReply } from '../security/reply-signature.js';
import { signRequest, type RequestVerifier, type VerifyResult } from '../security/request-signature.js';

/** The logical path a signature covers: independent of proxies and global prefixes. */
export function signedPath(config: Pick<ClusterConfig, 'routePrefix'>, endpoint: string): string {
  return `/${config.routePrefix ? `${config.routePrefix}/` : ''}${endpoint}`;
}

/** What a reply needs to be signed: the request it answers and the secret that signed that request. */
export interface ReplyKey {
  nonce: string;
  secret: string;
  /** This server's cluster. */
  cluster: string;
}

/** Statuses a signed request can be refused with. */
export type RefusalStatus = 400 | 401 | 403 | 413 | 429 | 503;

/**
 * The verdict on one request, for the Nest guard and the plain-function API alike: accepted
 * (sign the reply with `reply`), or refused with a status and a message that says no more
 * than it should. A refusal with `reply` is signed too (the signature was valid: a request
 * for another cluster, or one stamped before this process started, which learns this
 * server's clock from the reply); `retryAfterSeconds` goes in a Retry-After header.
 */
export type SignedRequestCheck =
  | { ok: true; reply: ReplyKey }
  | { ok: false; status: RefusalStatus; message: string; reply?: ReplyKey; retryAfterSeconds?: number };

export interface SignedRequestInput {
  authorization: unknown;
  method: string;
  /** `gossip`, `list`, …: the signature covers `signedPath(config, endpoint)`. */
  endpoint: string;
  /** The parsed body (ignored for GET and HEAD). */
  body?: unknown;
  /** The body's bytes as received, when the host keeps them. */
  rawBody?: Uint8Array;
  /** The Content-Length header, when there is one: an early 413 without looking at the body. */
  contentLength?: unknown;
  /** The client's address, for the failed-authentication limit: read only once the request has failed. */
  client?: string | (() => string | undefined);
}

export interface SignedRequestContext {
  config: Pick<ClusterConfig, 'routePrefix' | 'cluster' | 'maxBodyBytes'>;
  verifier: RequestVerifier;
  limiter: FailedAuthLimiter;
}

/** Bytes of `text` in UTF-8, past `limit` or not, without encoding it when its length decides. */
function longerThan(text: string, limit: number): boolean {
  if (text.length > limit) return true; // at least one byte per UTF-16 unit
  if (text.length * 3 <= limit) return false; // at most three bytes per UTF-16 unit
  return Buffer.byteLength(text, 'utf8') > limit;
}

/**
 * Checks one signed request (see `security/request-signature.ts`) against `secrets`:
 *
 * - 413 when the body is larger than `maxBodyBytes`: by its Content-Length when given, else by
 *   the bytes received (rawBody) or the size of its canonical JSON, so a chunked body is held
 *   to the same limit. The host's body parser has read it by then; its own limit bounds that.
 * - 400 when the JSON nests deeper than MAX_JSON_DEPTH (before anything recursive touches it).
 * - A valid signature is accepted, whatever the failed-authentication limit says: the limit
 *   never locks out a peer that shares an address (NAT, a proxy, loopback) with an attacker.
 * - Otherwise 403 for a valid signature of another cluster; 503 while the nonce cache is full;
 *   and for every other failure 401 without a hint, or 429 (with Retry-After) once the client
 *   has failed more than the limit in the last minute. Failures are counted per client.
 */
export function checkSignedRequest(context: SignedRequestContext, secrets: readonly string[], input: SignedRequestInput): SignedRequestCheck {
  const { config, verifier, limiter } = context;
  const tooLarge = () => ({ ok: false as const, status: 413 as const, message: messages.bodyTooLarge(config.maxBodyBytes) });
  if (Number(input.contentLength ?? 0) > config.maxBodyBytes) return tooLarge();
  const method = input.method.toUpperCase();
  const hasBody = method !== 'GET' && method !== 'HEAD';
  let canonicalBody: string | undefined;
  if (hasBody) {
    // before anything recursive touches it (canonical JSON, validation)
    if (nestedDeeperThan(input.body, MAX_JSON_DEPTH)) return { ok: false, status: 400, message: messages.tooDeep(MAX_JSON_DEPTH) };
    if (input.rawBody !== undefined) {
      if (input.rawBody.byteLength > config.maxBodyBytes) return tooLarge();
    } else if (input.body !== undefined && input.body !== null && input.body !== '') {
      canonicalBody = canonicalJson(input.body); // the size, and the text of the body hash: built once
      if (longerThan(canonicalBody, config.maxBodyBytes)) return tooLarge();
    }
  }
  const result = verifier.verify(input.authorization, secrets, {
    method,
    path: signedPath(config, input.endpoint),
    body: hasBody ? input.body : undefined,
    rawBody: hasBody ? input.rawBody : undefined,
    canonicalBody,
  });
  return verdict(result, secrets, config.cluster, limiter, input.client, input.endpoint);
}

/** Maps a verification result to the answer: the one place that decides statuses and messages. */
function verdict(result: VerifyResult, secrets: readonly string[], cluster: string, limiter: FailedAuthLimiter, client: SignedRequestInput['client'], endpoint: string): SignedRequestCheck {
  if (result.ok) return { ok: true, reply: { nonce: result.nonce, secret: secrets[result.secretIndex], cluster } };
  switch (result.reason) {
    case 'before-start':
      // a peer whose clock is behind ours (or a replay from before a restart): the signed reply
      // gives our clock, and our peers stamp their next request on it
      limiter.countRefusal();
      return { ok: false, status: 401, message: messages.unauthorized(), reply: { nonce: result.nonce, secret: secrets[result.secretIndex], cluster } };
    case 'busy':
      return { ok: false, status: 503, message: messages.nonceCacheFull(), retryAfterSeconds: Math.max(1, Math.ceil(result.retryAfterMs / 1000)) };
    case 'wrong-cluster':
      limiter.recordFailure(clientOf(client) ?? 'unknown', { endpoint, reason: 'wrong-cluster', cluster });
      return { ok: false, status: 403, message: messages.wrongCluster(), reply: { nonce: result.nonce, secret: secrets[result.secretIndex], cluster } };
    default: {
      // without the client's address (a plain-function caller that did not pass it) failures are counted, never limited
      const address = clientOf(client);
      const blocked = address !== undefined && limiter.isBlocked(address);
      limiter.recordFailure(address ?? 'unknown', { endpoint, reason: result.reason, cluster });
      if (blocked) return { ok: false, status: 429, message: messages.tooManyFailures(), retryAfterSeconds: limiter.retryAfterSeconds(address!) };
      return { ok: false, status: 401, message: messages.unauthorized() };
    }
  }
}

function clientOf(client: SignedRequestInput['client']): string | undefined {
  return typeof client === 'function' ? client() : client;
}

/** The Shazbot-Signature header for a reply with `status` (and, for 200, its body's canonical JSON). */
export function replySignatureHeader(key: ReplyKey, status: number, canonicalBody?: string): string {
  return signReply(key.secret, { nonce: key.nonce, status, cluster: key.cluster, canonicalBody: status === 200 ? (canonicalBody ?? '') : undefined });
}

/**
 * The Authorization header this server sends to `target`: signed with its first secret,
 * stamped `ts` (our clock plus what we know of the target's offset).
 */
export function signedHeader(
  config: Pick<ClusterConfig, 'routePrefix' | 'cluster'>,
  secret: string,
  method: string,
  endpoint: string,
  target: string,
  body?: unknown,
  canonicalBody?: string,
  ts?: number,
  nonce?: string,
): string {
  return signRequest(secret, { method, target, path: signedPath(config, endpoint), cluster: config.cluster, body, canonicalBody }, ts, nonce);
}
