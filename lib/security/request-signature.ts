import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/**
 * Signed requests between servers (and from operators' tools):
 *
 *   Authorization: Shazbot-HMAC-SHA256 cluster=<name>, ts=<ms since epoch>, nonce=<base64url>, sig=<base64url>
 *
 * sig = base64url(HMAC-SHA256(secret, the seven lines below joined by "\n")):
 *   SHAZBOT-HMAC-SHA256
 *   <method, upper case>
 *   <logical path: "/" + route prefix + "/" + endpoint, e.g. /clustershazbot/gossip>
 *   <ts>
 *   <nonce>
 *   <cluster>
 *   <hex SHA-256 of the canonical JSON of the body; of the empty string when there is none>
 *
 * The secret never crosses the wire; a request is accepted once, within `windowMs` of its ts.
 */
export const SIGNATURE_SCHEME = 'Shazbot-HMAC-SHA256';

export interface SignatureInput {
  method: string;
  path: string;
  cluster: string;
  body?: unknown;
  /**
   * The text (or bytes) whose SHA-256 is the body hash, when the caller has it: canonicalJson(body)
   * for a sender that sends that text, or the bytes as received for a verifier. Not computed twice.
   */
  canonicalBody?: string | Uint8Array;
}

export interface VerifyInput {
  method: string;
  path: string;
  /** The parsed body. */
  body?: unknown;
  /** The body's bytes as received, when the host keeps them (Nest's `rawBody: true`). */
  rawBody?: Uint8Array;
}

export type VerifyResult =
  | { ok: true; cluster: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'future' | 'bad-signature' | 'replayed' | 'wrong-cluster' };

// crypto.hash: the one-shot digest, cheaper than a Hash object per request
const sha256Hex = (data: string | Uint8Array) => hash('sha256', data, 'hex');

/** The body hash line: of the text or bytes when given, else of the body's canonical JSON ('' for none). */
function bodyHash(body: unknown, canonicalBody?: string | Uint8Array): string {
  return sha256Hex(canonicalBody ?? (body === undefined || body === null || body === '' ? '' : canonicalJson(body)));
}

/** The seven lines; `method` already upper case. */
function signingText(method: string, path: string, ts: number, nonce: string, cluster: string, bodyHashHex: string): string {
  return `SHAZBOT-HMAC-SHA256\n${method}\n${path}\n${ts}\n${nonce}\n${cluster}\n${bodyHashHex}`;
}

export function stringToSign(input: SignatureInput, ts: number, nonce: string): string {
  return signingText(input.method.toUpperCase(), input.path, ts, nonce, input.cluster, bodyHash(input.body, input.canonicalBody));
}

const SHA256_BYTES = 32;

/** HMAC-SHA256 of `text` (UTF-8) under `secret` (UTF-8), as RFC 2104 defines it; a new Buffer. */
export function hmacSha256(secret: string, text: string): Buffer {
  return createHmac('sha256', secret).update(text, 'utf8').digest();
}

/** The Authorization header for a request; `ts` and `nonce` may be fixed (tests, worked examples). */
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

function parse(header: unknown): { cluster: string; ts: number; nonce: string; sig: string } | null {
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

/**
 * Checks signed requests: the signature against every accepted secret (rotation), the time
 * window, and each nonce once. The nonce cache holds nonces until their window has passed.
 */
export class RequestVerifier {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly options: { cluster: string; windowMs: number; now?: () => number; maxNonces?: number },
  ) {}

  verify(header: unknown, secrets: readonly string[], input: VerifyInput): VerifyResult {
    if (header === undefined || header === null || header === '') return { ok: false, reason: 'missing' };
    const parsed = parse(header);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const now = (this.options.now ?? Date.now)();
    const { ts, nonce, cluster } = parsed;
    if (ts < now - this.options.windowMs) return { ok: false, reason: 'expired' };
    if (ts > now + this.options.windowMs) return { ok: false, reason: 'future' };
    receivedSig.write(parsed.sig, 'base64url');
    const method = input.method.toUpperCase();
    // the bytes as received, when the host keeps them (rawBody): our senders send the canonical
    // text, so its hash is the body hash and nothing needs rebuilding; otherwise, or when it
    // does not match (a sender that wrote other JSON), the canonical JSON of the parsed body
    let valid = input.rawBody !== undefined && this.matches(signingText(method, input.path, ts, nonce, cluster, sha256Hex(input.rawBody)), secrets);
    if (!valid) valid = this.matches(signingText(method, input.path, ts, nonce, cluster, bodyHash(input.body)), secrets);
    if (!valid) return { ok: false, reason: 'bad-signature' };
    if (this.seen.has(nonce)) return { ok: false, reason: 'replayed' };
    this.remember(nonce, ts + this.options.windowMs, now);
    if (cluster !== this.options.cluster) return { ok: false, reason: 'wrong-cluster' };
    return { ok: true, cluster };
  }

  /** Whether `text` is signed by any accepted secret: every secret is tried, no early exit. */
  private matches(text: string, secrets: readonly string[]): boolean {
    let valid = false;
    for (const secret of secrets) valid = timingSafeEqual(hmacSha256(secret, text), receivedSig) || valid;
    return valid;
  }

  /** Nonces held (each until its request's window has passed). */
  get nonceCount(): number {
    return this.seen.size;
  }

  private remember(nonce: string, until: number, now: number): void {
    // nonces arrive in about the order they expire: forget the expired ones at the front, so
    // the cache holds one window's worth of requests instead of growing to its cap
    for (const [n, t] of this.seen) {
      if (t >= now) break;
      this.seen.delete(n);
    }
    if (this.seen.size >= (this.options.maxNonces ?? 1_000_000)) {
      for (const [n, t] of this.seen) if (t < now) this.seen.delete(n);
      // still full: forget the oldest; a replay of those is outside any realistic window anyway
      for (const n of this.seen.keys()) {
        if (this.seen.size < (this.options.maxNonces ?? 1_000_000)) break;
        this.seen.delete(n);
      }
    }
    this.seen.set(nonce, until);
  }
}
