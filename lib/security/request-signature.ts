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
}

export type VerifyResult =
  | { ok: true; cluster: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'future' | 'bad-signature' | 'replayed' | 'wrong-cluster' };

// crypto.hash: the one-shot digest, cheaper than a Hash object per request
const bodyHash = (body: unknown) => hash('sha256', body === undefined || body === null || body === '' ? '' : canonicalJson(body), 'hex');

export function stringToSign(input: SignatureInput, ts: number, nonce: string): string {
  return ['SHAZBOT-HMAC-SHA256', input.method.toUpperCase(), input.path, String(ts), nonce, input.cluster, bodyHash(input.body)].join('\n');
}

function hmac(secret: string, text: string): Buffer {
  return createHmac('sha256', secret).update(text, 'utf8').digest();
}

/** The Authorization header for a request; `ts` and `nonce` may be fixed (tests, worked examples). */
export function signRequest(secret: string, input: SignatureInput, ts = Date.now(), nonce = randomBytes(16).toString('base64url')): string {
  const sig = hmac(secret, stringToSign(input, ts, nonce)).toString('base64url');
  return `${SIGNATURE_SCHEME} cluster=${input.cluster}, ts=${ts}, nonce=${nonce}, sig=${sig}`;
}

const CLUSTER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function isValidClusterName(name: string): boolean {
  return CLUSTER_NAME.test(name);
}

function parse(header: unknown): { cluster: string; ts: number; nonce: string; sig: Buffer } | null {
  if (typeof header !== 'string' || header.length > 1024 || !header.startsWith(`${SIGNATURE_SCHEME} `)) return null;
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
  return { cluster, ts, nonce, sig: Buffer.from(sig, 'base64url') };
}

/**
 * Checks signed requests: the signature against every accepted secret (rotation), the time
 * window, and each nonce once. The nonce cache holds nonces until their window has passed.
 */
export class RequestVerifier {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly options: { cluster: string; windowMs: number; now?: () => number; maxNonces?: number },
  ) {}

  verify(header: unknown, secrets: readonly string[], input: Omit<SignatureInput, 'cluster'>): VerifyResult {
    if (header === undefined || header === null || header === '') return { ok: false, reason: 'missing' };
    const parsed = parse(header);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const now = (this.options.now ?? Date.now)();
    if (parsed.ts < now - this.options.windowMs) return { ok: false, reason: 'expired' };
    if (parsed.ts > now + this.options.windowMs) return { ok: false, reason: 'future' };
    const text = stringToSign({ ...input, cluster: parsed.cluster }, parsed.ts, parsed.nonce);
    let valid = false;
    for (const secret of secrets) valid = timingSafeEqual(hmac(secret, text), parsed.sig) || valid; // every secret, no early exit
    if (!valid) return { ok: false, reason: 'bad-signature' };
    if (this.seen.has(parsed.nonce)) return { ok: false, reason: 'replayed' };
    this.remember(parsed.nonce, parsed.ts + this.options.windowMs, now);
    if (parsed.cluster !== this.options.cluster) return { ok: false, reason: 'wrong-cluster' };
    return { ok: true, cluster: parsed.cluster };
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
