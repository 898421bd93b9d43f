/**
 * The request signature's parsing and verification rules, one rule per test: the header's two
 * parsing paths (the form signRequest writes, and any other field order or spacing), the body
 * hash of a request without a body, the edges of the time window, the raw-body hash before the
 * canonical JSON, and which secret is reported. The wire format is in docs/signing.md; the
 * worked example and the main refusals are in test/core/request-signature.spec.ts.
 */
import { createHash } from 'node:crypto';
import { bodyHash, parseSignatureHeader, RequestVerifier, SIGNATURE_SCHEME, signRequest, stringToSign } from '../../lib/security/request-signature.js';

const SELF = 'http://10.0.0.6:3000/';
const NOW = 1_800_000_000_000;
const WINDOW_MS = 600_000;
const input = { method: 'POST', path: '/clustershazbot/gossip', body: { message: 'gossip', online: [] } };
const NONCE = 'AAAAAAAAAAAAAAAAAAAAAA';
const SIG = 'w6LCqK7ySEIAt48vi3H_oP1Nt-h-OBBGtLTQjMhq3N8'; // 43 base64url characters: 32 bytes
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A header in the general form: `fields` in the order and spacing given, after the scheme. */
const general = (fields: string) => `${SIGNATURE_SCHEME} ${fields}`;
/** The fields of a header signRequest wrote, as `name=value` strings. */
const fieldsOf = (header: string) => header.slice(SIGNATURE_SCHEME.length + 1).split(', ');

function verifier(over: { windowMs?: number } = {}) {
  return new RequestVerifier({ cluster: 'default', baseUrl: SELF, windowMs: over.windowMs ?? WINDOW_MS, now: () => NOW, startedAt: 0 });
}
const sign = (ts = NOW, secret = 's1') => signRequest(secret, { ...input, target: SELF, cluster: 'default' }, ts);

describe('Authorization header parsing', () => {
  it('reads the fields in any order and with spaces around "=" and ",", as the written form', () => {
    const expected = { cluster: 'default', ts: 1795411200123, nonce: NONCE, sig: SIG };
    expect(parseSignatureHeader(general(`cluster=default, ts=1795411200123, nonce=${NONCE}, sig=${SIG}`))).toEqual(expected);
    expect(parseSignatureHeader(general(`sig=${SIG}, nonce=${NONCE}, ts=1795411200123, cluster=default`))).toEqual(expected);
    expect(parseSignatureHeader(general(`cluster = default ,ts= 1795411200123,nonce =${NONCE} , sig=${SIG}`))).toEqual(expected);
  });

  it('a request whose header lists its fields in another order verifies', () => {
    const [cluster, ts, nonce, sig] = fieldsOf(sign());
    expect(verifier().verify(general([sig, ts, nonce, cluster].join(',')), ['s1'], input)).toEqual({ ok: true, cluster: 'default', nonce: expect.any(String), secretIndex: 0 });
  });

  it('ignores fields it does not know, an empty-named one included, and refuses a part that has no "="', () => {
    const fields = `cluster=default, ts=1, nonce=${NONCE}, sig=${SIG}`;
    expect(parseSignatureHeader(general(`${fields}, alg=hmac-sha256`))).toEqual({ cluster: 'default', ts: 1, nonce: NONCE, sig: SIG });
    expect(parseSignatureHeader(general(`${fields},=x`))).toEqual({ cluster: 'default', ts: 1, nonce: NONCE, sig: SIG });
    expect(parseSignatureHeader(general(`${fields}, extra`))).toBeNull();
    expect(parseSignatureHeader(general(`${fields},`))).toBeNull();
  });

  it('refuses a header that is not a string (a repeated header, a number) without throwing', () => {
    for (const header of [42, [sign()], { toString: () => sign() }, true]) expect(parseSignatureHeader(header)).toBeNull();
    expect(verifier().verify([sign()], ['s1'], input)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifier().verify(42, ['s1'], input)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses another scheme, even one of the same length (Shazbot-HMAC-SHA512)', () => {
    const fields = `cluster=default, ts=1, nonce=${NONCE}, sig=${SIG}`;
    expect(parseSignatureHeader(`Shazbot-HMAC-SHA512 ${fields}`)).toBeNull();
    expect(parseSignatureHeader(`Shazbot-HMAC-SHA256${fields}`)).toBeNull(); // no space after the scheme
    expect(parseSignatureHeader(`shazbot-hmac-sha256 ${fields}`)).toBeNull();
    expect(parseSignatureHeader(`Shazbot-HMAC-SHA256 ${fields}`)).not.toBeNull();
  });

  it('reads a header of at most 1024 characters and refuses a longer one', () => {
    const header = general(`cluster=default, ts=1, nonce=${NONCE}, sig=${SIG}`);
    expect(parseSignatureHeader(header.padEnd(1024, ' '))).toEqual({ cluster: 'default', ts: 1, nonce: NONCE, sig: SIG });
    expect(parseSignatureHeader(header.padEnd(1025, ' '))).toBeNull();
  });

  it.each([
    ['no cluster', `ts=1, nonce=${NONCE}, sig=${SIG}`],
    ['a cluster name with a space', `cluster=my cluster, ts=1, nonce=${NONCE}, sig=${SIG}`],
    ['a cluster name of 65 characters', `cluster=${'c'.repeat(65)}, ts=1, nonce=${NONCE}, sig=${SIG}`],
    ['no ts', `cluster=default, nonce=${NONCE}, sig=${SIG}`],
    ['a ts that is no integer', `cluster=default, ts=1.5, nonce=${NONCE}, sig=${SIG}`],
    ['a ts past 2^53', `cluster=default, ts=9007199254740993, nonce=${NONCE}, sig=${SIG}`],
    ['no nonce', `cluster=default, ts=1, sig=${SIG}`],
    ['a nonce of 15 characters', `cluster=default, ts=1, nonce=${'n'.repeat(15)}, sig=${SIG}`],
    ['a nonce of 65 characters', `cluster=default, ts=1, nonce=${'n'.repeat(65)}, sig=${SIG}`],
    ['a nonce with a character before the base64url ones', `cluster=default, ts=1, nonce=!${NONCE}, sig=${SIG}`],
    ['a nonce with a character after the base64url ones', `cluster=default, ts=1, nonce=${NONCE}!, sig=${SIG}`],
    ['no sig', `cluster=default, ts=1, nonce=${NONCE}`],
    ['a sig of 42 characters', `cluster=default, ts=1, nonce=${NONCE}, sig=${SIG.slice(1)}`],
    ['a sig of 44 characters', `cluster=default, ts=1, nonce=${NONCE}, sig=${SIG}A`],
    ['a sig with a character before the base64url ones', `cluster=default, ts=1, nonce=${NONCE}, sig=!${SIG}`],
    ['a sig with padding (base64, not base64url)', `cluster=default, ts=1, nonce=${NONCE}, sig=${SIG}=`],
  ])('refuses, in the written field order and reversed, a header with %s', (_what, fields) => {
    for (const header of [general(fields), general(fields.split(', ').reverse().join(', '))]) {
      expect(parseSignatureHeader(header)).toBeNull();
      expect(verifier().verify(header, ['s1'], input)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('reads nonces of 16 and of 64 characters, the bounds of the format', () => {
    for (const nonce of ['n'.repeat(16), 'n'.repeat(64)]) expect(parseSignatureHeader(general(`ts=1, sig=${SIG}, nonce=${nonce}, cluster=default`))).toMatchObject({ nonce });
  });
});

describe('the body hash line', () => {
  const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

  it('hashes a request without a body (undefined, null or "") as the empty string, as the wire format says', () => {
    expect(sha256('')).toBe(EMPTY);
    for (const body of [undefined, null, '']) expect(bodyHash(body)).toBe(EMPTY);
    const get = { method: 'GET', target: SELF, path: '/clustershazbot/state', cluster: 'default' };
    expect(stringToSign(get, 1, NONCE)).toBe(`SHAZBOT-HMAC-SHA256\nGET\n${SELF}\n/clustershazbot/state\n1\n${NONCE}\ndefault\n${EMPTY}`);
  });

  it('hashes a body by its canonical JSON, or the text given for it', () => {
    expect(bodyHash({ b: 1, a: [2] })).toBe(sha256('{"a":[2],"b":1}'));
    expect(bodyHash(0)).toBe(sha256('0'));
    expect(bodyHash({ b: 1 }, '{"b": 1}')).toBe(sha256('{"b": 1}'));
  });
});

describe('RequestVerifier rules', () => {
  it('answers missing for no header, null and the empty string, malformed for anything else unreadable', () => {
    for (const header of [undefined, null, '']) expect(verifier().verify(header, ['s1'], input)).toEqual({ ok: false, reason: 'missing' });
    expect(verifier().verify(' ', ['s1'], input)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts a request stamped exactly one window before or after its clock, and refuses one ms more', () => {
    const v = verifier();
    expect(v.verify(sign(NOW - WINDOW_MS), ['s1'], input).ok).toBe(true);
    expect(v.verify(sign(NOW + WINDOW_MS), ['s1'], input).ok).toBe(true);
    expect(v.verify(sign(NOW - WINDOW_MS - 1), ['s1'], input)).toEqual({ ok: false, reason: 'expired' });
    expect(v.verify(sign(NOW + WINDOW_MS + 1), ['s1'], input)).toEqual({ ok: false, reason: 'future' });
  });

  it('accepts a body signed over the exact bytes sent, even when they are not canonical JSON', () => {
    // 1.0 and the spaces are gone once parsed: only the bytes as received match the signature
    const sent = '{ "online": [], "message": "gossip", "n": 1.0 }';
    const parsed = JSON.parse(sent) as unknown;
    const header = signRequest('s1', { ...input, target: SELF, cluster: 'default', body: parsed, canonicalBody: sent }, NOW);
    expect(verifier().verify(header, ['s0', 's1'], { ...input, body: parsed, rawBody: Buffer.from(sent) })).toEqual({ ok: true, cluster: 'default', nonce: expect.any(String), secretIndex: 1 });
    expect(verifier().verify(header, ['s1'], { ...input, body: parsed, rawBody: Buffer.from(sent) })).toMatchObject({ ok: true, secretIndex: 0 });
    // without the bytes, the canonical JSON of the parsed body is not what was signed
    expect(verifier().verify(header, ['s1'], { ...input, body: parsed })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('reports a secret listed twice in the rotation at its first place', () => {
    expect(verifier().verify(sign(), ['s0', 's1', 's1'], input)).toMatchObject({ ok: true, secretIndex: 1 });
    expect(verifier().verify(sign(), ['s1', 's1'], input)).toMatchObject({ ok: true, secretIndex: 0 });
  });
});
