import { timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { bodyHash, hmacSha256, isValidClusterName, SIGNATURE_SCHEME } from './request-signature.js';

/**
 * Signed replies: every answer a server gives to a request whose signature verified carries
 * a proof that it knows an accepted secret, bound to that request, so a process squatting a
 * dead member's port, an unrelated web server or anyone on the path of plain-http traffic
 * cannot answer in its name (memberlist authenticates replies and requests alike, inside its
 * keyring's encryption; RFC 9421 section 2.4 binds a response signature to its request).
 *
 *   Shazbot-Signature: Shazbot-HMAC-SHA256 cluster=<replier's cluster>, ts=<replier's clock, ms>, sig=<base64url>
 *
 * sig = base64url(HMAC-SHA256(secret, the six lines below joined by "\n")):
 *   SHAZBOT-REPLY-HMAC-SHA256
 *   <the request's nonce>
 *   <HTTP status, e.g. 200>
 *   <ts>
 *   <cluster>
 *   <hex SHA-256 of the canonical JSON of the reply body for status 200; of the empty string otherwise>
 *
 * The first line keeps a reply's signature from ever being taken for a request's. The secret
 * is the accepted secret that signed the request, so the requester always holds it. `ts` is the
 * replier's clock: requesters use it to stamp their next requests on that clock.
 */
export const REPLY_SIGNATURE_HEADER = 'shazbot-signature';

/** What a reply's signature covers (see the header format above). */
export interface ReplySignatureInput {
  /** The nonce of the request this reply answers. */
  nonce: string;
  status: number;
  /** The replier's cluster name. */
  cluster: string;
  /** The reply body (status 200 only; other statuses sign an empty body). */
  body?: unknown;
  /** canonicalJson(body) when the caller has it, or (verifying) the bytes as received. */
  canonicalBody?: string | Uint8Array;
}

/** The six lines a reply's signature is the HMAC of. */
export function replyStringToSign(input: ReplySignatureInput, ts: number): string {
  const hashed = input.status === 200 ? bodyHash(input.body, input.canonicalBody) : bodyHash(undefined);
  return `SHAZBOT-REPLY-HMAC-SHA256\n${input.nonce}\n${input.status}\n${ts}\n${input.cluster}\n${hashed}`;
}

/** The Shazbot-Signature header of a reply; `ts` may be fixed (tests, worked examples). */
export function signReply(secret: string, input: ReplySignatureInput, ts = Date.now()): string {
  return `${SIGNATURE_SCHEME} cluster=${input.cluster}, ts=${ts}, sig=${hmacSha256(secret, replyStringToSign(input, ts)).toString('base64url')}`;
}

const REPLY_FORM = /^Shazbot-HMAC-SHA256 cluster=([A-Za-z0-9._-]{1,64}), ts=(\d{1,16}), sig=([A-Za-z0-9_-]{43})$/;

/** A reply as the requester received it, with the nonce of the request it sent. */
export interface ReplyToVerify {
  /** The nonce of the request sent. */
  nonce: string;
  status: number;
  /** The body's bytes as received (status 200). */
  rawBody?: Uint8Array;
  /** The parsed body (status 200), for a replier that wrote other JSON than the canonical text. */
  body?: unknown;
}

/** A reply signature that verified: the replier's cluster and clock. */
export type ReplyVerdict = { ok: true; cluster: string; ts: number } | { ok: false };

/**
 * Checks a reply's Shazbot-Signature header against every accepted secret: the bytes as
 * received first (our servers send the canonical text), then the canonical JSON of the parsed
 * body. Says nothing about which cluster is acceptable: the caller compares.
 */
export function verifyReply(header: unknown, secrets: readonly string[], reply: ReplyToVerify): ReplyVerdict {
  if (typeof header !== 'string' || header.length > 512) return { ok: false };
  const match = REPLY_FORM.exec(header);
  if (!match || !isValidClusterName(match[1])) return { ok: false };
  const cluster = match[1];
  const ts = Number(match[2]);
  if (!Number.isSafeInteger(ts)) return { ok: false };
  const received = Buffer.from(match[3], 'base64url');
  const base = { nonce: reply.nonce, status: reply.status, cluster };
  const signedWith = (input: ReplySignatureInput) => {
    const text = replyStringToSign(input, ts);
    let valid = false;
    for (const secret of secrets) valid = timingSafeEqual(hmacSha256(secret, text), received) || valid;
    return valid;
  };
  const valid =
    reply.status !== 200
      ? signedWith(base)
      : (reply.rawBody !== undefined && signedWith({ ...base, canonicalBody: reply.rawBody })) || (reply.body !== undefined && signedWith({ ...base, canonicalBody: canonicalJson(reply.body) }));
  if (valid) return { ok: true, cluster, ts };
  return { ok: false };
}
