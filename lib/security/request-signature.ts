import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { normalizeBaseUrl } from '../core/base-url.js';
import { canonicalJson } from './canonical-json.js';
import { NonceCache } from './nonce-cache.js';

/**
 * Signed requests between servers (and from operators' tools):
 *
 *   Authorization: Shazbot-HMAC-SHA256 cluster=<name>, ts=<ms since epoch>, nonce=<base64url>, sig=<base64url>
 *
 * sig = base64url(HMAC-SHA256(secret, the eight lines below joined by "\n")):
 *   SHAZBOT-HMAC-SHA256
 *   <method, upper case>
 *   <the target server's base URL, normalised (normalizeBaseUrl), e.g. http://10.0.0.5:3000/>
 *   <logical path: "/" + route prefix + "/" + endpoint, e.g. /clustershazbot/gossip>
 *   <ts>
 *   <nonce>
 *   <cluster>
 *   <hex SHA-256 of the canonical JSON of the body; of the empty string when there is none>
 *
 * The secret never crosses the wire. A request is accepted once, within `windowMs` of its ts,
 * only by the server it names (as AWS SigV4 and RFC 9421 sign the target host), and only when
 * it was signed after that server's process started. docs/signing.md has a worked example.
 */
export const SIGNATURE_SCHEME = 'Shazbot-HMAC-SHA256';

/** What a request's signature covers (see the eight lines above). */
export interface SignatureInput {
  method: string;
  /** The base URL of the server the request is for (its SHAZBOT_BASE_URL); normalised here. */
  target: string;
  path: string;
  cluster: string;
  body?: unknown;
  /**
   * The text (or bytes) whose SHA-256 is the body hash, when the caller has it: canonicalJson(body)
   * for a sender that sends that text, or the bytes as received for a verifier. Not computed twice.
   */
  canonicalBody?: string | Uint8Array;
}

/** The request as the server received it: the target is the verifier's own base URL. */
export interface VerifyInput {
  method: string;
  path: string;
  /** The parsed body. */
  body?: unknown;
  /** The body's bytes as received, when the host keeps them (Nest's `rawBody: true`). */
  rawBody?: Uint8Array;
  /** canonicalJson(body), when the caller has already built it (it is not built again). */
  canonicalBody?: string;
}

/** A signature that verified: which request it was (its nonce) and which accepted secret made it (its index). */
export interface VerifiedSignature {
  cluster: string;
  nonce: string;
  secretIndex: number;
}

/**
 * The verdict on a signed request.
 * - `ok`: accepted (and its nonce recorded).
 * - `missing`, `malformed`, `expired` (older than the window), `future` (further ahead than the
 *   window), `bad-signature` (no accepted secret made it), `replayed` (nonce already used):
 *   refused, nothing learned about the sender.
 * - `wrong-cluster`: a valid signature naming another cluster.
 * - `before-start`: a valid signature stamped before this process started (it may have been
 *   accepted by the process before, whose nonces are gone). The refusal may carry this
 *   server's clock so that the sender can stamp its next request on it.
 * - `busy`: the nonce cache is full; nothing is forgotten early, so the request is refused
 *   until room frees up in `retryAfterMs`.
 */
export type VerifyResult =
  | ({ ok: true } & VerifiedSignature)
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'future' | 'bad-signature' | 'replayed' }
  | ({ ok: false; reason: 'wrong-cluster' | 'before-start' } & VerifiedSignature)
  | { ok: false; reason: 'busy'; retryAfterMs: number };

// crypto.hash: the one-shot digest, cheaper than a Hash object per request
const sha256Hex = (data: string | Uint8Array) => hash('sha256', data, 'hex');

/** The body hash line: of the text or bytes when given, else of the body's canonical JSON ('' for none). */
export function bodyHash(body: unknown, canonicalBody?: string | Uint8Array): string {
  return sha256Hex(canonicalBody ?? (body === undefined || body === null || body === '' ? '' : canonicalJson(body)));
}

/** The eight lines; `method` already upper case, `target` already normalised. */
function signingText(method: string, target: string, path: string, ts: number, nonce: string, cluster: string, bodyHashHex: string): string {
  return `SHAZBOT-HMAC-SHA256\n${method}\n${target}\n${path}\n${ts}\n${nonce}\n${cluster}\n${bodyHashHex}`;
}

/** The text the signature is the HMAC of (for cross-checking another implementation). @throws InvalidBaseUrlError for a target that is no base URL */
export function stringToSign(input: SignatureInput, ts: number, nonce: string): string {
  return signingText(input.method.toUpperCase(), normalizeBaseUrl(input.target), input.path, ts, nonce, input.cluster, bodyHash(input.body, input.canonicalBody));
}

const SHA256_BYTES = 32;

/** HMAC-SHA256 of `text` (UTF-8) under `secret` (UTF-8), as RFC 2104 defines it; a new Buffer. */
export function hmacSha256(secret: string, text: string): Buffer {
  return createHmac('sha256', secret).update(text, 'utf8').digest();
}

/**
 * The Authorization header for a request to `input.target`; `ts` and `nonce` may be fixed
 * (tests, worked examples, a sender stamping on the target's clock).
 * @throws InvalidBaseUrlError when `input.target` is no base URL
 */
export function signRequest(secret: string, input: SignatureInput, ts = Date.now(), nonce = randomBytes(16).toString('base64url')): string {
  const sig = hmacSha256(secret, stringToSign(input, ts, nonce)).toString('base64url');
  return `${SIGNATURE_SCHEME} cluster=${input.cluster}, ts=${ts}, nonce=${nonce}, sig=${sig}`;
}

const CLUSTER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function isValidClusterName(name: string): boolean {
  return CLUSTER_NAME.test(name);
}

/** The header as signRequest writes it: one match instead of splitting (other field orders take the general path). */
const WRITTEN_FORM = /^Shazbot-HMAC-SHA256 cluster=([A-Za-z0-9._-]{1,64}), ts=(\d{1,16}), nonce=([A-Za-z0-9_-]{16,64}), sig=([A-Za-z0-9_-]{43})$/;

/** The fields of a request's Authorization header, or null when it is not one. */
export function parseSignatureHeader(header: unknown): { cluster: string; ts: number; nonce: string; sig: string } | null {
  if (typeof header !== 'string' || header.length > 1024 || !header.startsWith(`${SIGNATURE_SCHEME} `)) return null;
  const written = WRITTEN_FORM.exec(header);
  if (written) {
    const ts = Number(written[2]);
    return Number.isSafeInteger(ts) ? { cluster: written[1], ts, nonce: written[3], sig: written[4] } : null;
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(SIGNATURE_SCHEME.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const cluster = fields.get('cluster') ?? '';
  const ts = Number(fields.get('ts'));
  const nonce = fields.get('nonce') ?? '';
  const sig = fields.get('sig') ?? '';
  if (!isValidClusterName(cluster) || !Number.isSafeInteger(ts) || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return null;
  return { cluster, ts, nonce, sig };
}

/** The received signature, decoded per request into one buffer (43 base64url characters: 32 bytes). */
const receivedSig = Buffer.alloc(SHA256_BYTES);

/** Buckets per window in the nonce cache: a nonce outlives its window by at most 1/16 of it. */
const NONCE_BUCKETS_PER_WINDOW = 16;

/** Configuration of a RequestVerifier (the module builds one from its options). */
export interface RequestVerifierOptions {
  /** This server's cluster name. */
  cluster: string;
  /** This server's base URL, as peers address it (normalised here): requests signed for another server are refused. */
  baseUrl: string;
  /** A request is accepted within this many ms of its timestamp, either way. */
  windowMs: number;
  /** Clock (ms since epoch). @default Date.now */
  now?: () => number;
  /** Most nonces held; past it, requests are refused ('busy') until the oldest expire. @default 1_000_000 */
  maxNonces?: number;
  /** Requests stamped before this time (ms since epoch) are refused ('before-start'). @default now() when constructed */
  startedAt?: number;
}

/**
 * Checks signed requests: the signature against every accepted secret (rotation), the target,
 * the time window, the process start, and each nonce once (see NonceCache).
 */
export class RequestVerifier {
  private readonly nonces: NonceCache;
  private readonly self: string;
  private readonly now: () => number;
  private startedAt: number;

  constructor(private readonly options: RequestVerifierOptions) {
    this.self = normalizeBaseUrl(options.baseUrl);
    this.now = options.now ?? Date.now;
    this.startedAt = options.startedAt ?? this.now();
    this.nonces = new NonceCache(Math.max(1, Math.ceil(options.windowMs / NONCE_BUCKETS_PER_WINDOW)), options.maxNonces ?? 1_000_000);
  }

  verify(header: unknown, secrets: readonly string[], input: VerifyInput): VerifyResult {
    if (header === undefined || header === null || header === '') return { ok: false, reason: 'missing' };
    const parsed = parseSignatureHeader(header);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const now = this.now();
    const { ts, nonce, cluster } = parsed;
    if (ts < now - this.options.windowMs) return { ok: false, reason: 'expired' };
    if (ts > now + this.options.windowMs) return { ok: false, reason: 'future' };
    receivedSig.write(parsed.sig, 'base64url');
    const method = input.method.toUpperCase();
    // the bytes as received, when the host keeps them (rawBody): our senders send the canonical
    // text, so its hash is the body hash and nothing needs rebuilding; otherwise, or when it
    // does not match (a sender that wrote other JSON), the canonical JSON of the parsed body
    let secretIndex = input.rawBody === undefined ? -1 : this.matches(signingText(method, this.self, input.path, ts, nonce, cluster, sha256Hex(input.rawBody)), secrets);
    if (secretIndex < 0) secretIndex = this.matches(signingText(method, this.self, input.path, ts, nonce, cluster, bodyHash(input.body, input.canonicalBody)), secrets);
    if (secretIndex < 0) return { ok: false, reason: 'bad-signature' };
    const verified = { cluster, nonce, secretIndex };
    // a clock stepped back since start: the process start moves back with it, or nothing would pass
    if (now < this.startedAt) this.startedAt = now;
    if (ts < this.startedAt) return { ok: false, reason: 'before-start', ...verified };
    const added = this.nonces.add(nonce, ts + this.options.windowMs, now);
    if (added === 'seen') return { ok: false, reason: 'replayed' };
    if (added === 'full') return { ok: false, reason: 'busy', retryAfterMs: this.nonces.msUntilRoom(now) };
    if (cluster !== this.options.cluster) return { ok: false, reason: 'wrong-cluster', ...verified };
    return { ok: true, ...verified };
  }

  /** The index of the accepted secret that signed `text`, or -1: every secret is tried, no early exit. */
  private matches(text: string, secrets: readonly string[]): number {
    let index = -1;
    for (let i = 0; i < secrets.length; i++) if (timingSafeEqual(hmacSha256(secrets[i], text), receivedSig) && index < 0) index = i;
    return index;
  }

  /** Nonces held (each until its request's window has passed). */
  get nonceCount(): number {
    return this.nonces.size;
  }
}
