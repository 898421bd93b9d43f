/**
 * The reply signature's rules, one per test: what a non-200 reply signs, which headers are read
 * at all, the replier's clock as an exact integer, and a 200 reply that cannot be checked
 * without its body. The worked reply and the main refusals are in
 * test/core/request-signature.spec.ts; the transport's use of them in replies.e2e.spec.ts.
 */
import { replyStringToSign, signReply, verifyReply } from '../../lib/security/reply-signature.js';
import { hmacSha256, SIGNATURE_SCHEME } from '../../lib/security/request-signature.js';

const NONCE = 'nonce-of-the-request-0001';
const TS = 1_800_000_000_000;
const EMPTY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('reply signature rules', () => {
  it('a reply other than 200 signs an empty body, whatever body it carries', () => {
    const error = { nonce: NONCE, status: 401, cluster: 'default', body: { message: 'Unauthorized' } };
    expect(replyStringToSign(error, TS)).toBe(`SHAZBOT-REPLY-HMAC-SHA256\n${NONCE}\n401\n${TS}\ndefault\n${EMPTY_HASH}`);
    expect(signReply('s1', error, TS)).toBe(signReply('s1', { ...error, body: undefined }, TS));
    // and verifies without one
    expect(verifyReply(signReply('s1', error, TS), ['s1'], { nonce: NONCE, status: 401 })).toEqual({ ok: true, cluster: 'default', ts: TS });
  });

  it('reads only a header that is a string: a repeated header (an array) is refused', () => {
    const header = signReply('s1', { nonce: NONCE, status: 401, cluster: 'default' }, TS);
    expect(verifyReply(header, ['s1'], { nonce: NONCE, status: 401 }).ok).toBe(true);
    for (const other of [[header], [header, header], { toString: () => header }]) expect(verifyReply(other, ['s1'], { nonce: NONCE, status: 401 })).toEqual({ ok: false });
  });

  it('refuses a clock past 2^53 even when the signature covers the number it rounds to', () => {
    // Number('9007199254740993') is 9007199254740992: a signature over the rounded clock must
    // not make the replier's clock readable as another number than the one it wrote
    const rounded = 9007199254740992;
    const input = { nonce: NONCE, status: 401, cluster: 'default' };
    const sig = hmacSha256('s1', replyStringToSign(input, rounded)).toString('base64url');
    expect(verifyReply(`${SIGNATURE_SCHEME} cluster=default, ts=9007199254740993, sig=${sig}`, ['s1'], { nonce: NONCE, status: 401 })).toEqual({ ok: false });
    // the largest exact clock passes
    expect(verifyReply(signReply('s1', input, Number.MAX_SAFE_INTEGER), ['s1'], { nonce: NONCE, status: 401 })).toEqual({ ok: true, cluster: 'default', ts: Number.MAX_SAFE_INTEGER });
  });

  it('refuses a 200 reply checked without its body (neither the bytes nor the parsed body), whatever the signature covers', () => {
    for (const canonicalBody of ['', 'null', '{"ack":true}']) {
      const header = signReply('s1', { nonce: NONCE, status: 200, cluster: 'default', canonicalBody }, TS);
      expect([canonicalBody, verifyReply(header, ['s1'], { nonce: NONCE, status: 200 })]).toEqual([canonicalBody, { ok: false }]);
      // with the bytes it was signed over, it verifies
      expect(verifyReply(header, ['s1'], { nonce: NONCE, status: 200, rawBody: Buffer.from(canonicalBody) }).ok).toBe(true);
    }
  });
});
