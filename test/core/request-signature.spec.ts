import fc from 'fast-check';
import { canonicalJson, MAX_JSON_DEPTH, nestedDeeperThan } from '../../lib/security/canonical-json.js';
import { createHash, createHmac } from 'node:crypto';
import { NonceCache } from '../../lib/security/nonce-cache.js';
import { replyStringToSign, signReply, verifyReply } from '../../lib/security/reply-signature.js';
import { hmacSha256, RequestVerifier, signRequest, stringToSign } from '../../lib/security/request-signature.js';

/** docs/signing.md's worked example: fixed inputs, the exact header another implementation must produce. */
const WORKED_EXAMPLE = {
  secret: 'correct horse battery staple',
  input: {
    method: 'POST',
    target: 'http://10.0.0.6:3000/',
    path: '/clustershazbot/gossip',
    cluster: 'default',
    body: { message: 'gossip', online: [{ baseUrl: 'http://10.0.0.5:3000/', monitor: false, lastUpdate: 1795411200000 }] },
  },
  ts: 1795411200123,
  nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
};

/** docs/signing.md's worked reply: the answer of 10.0.0.6 to the request above. */
const WORKED_REPLY = {
  body: {
    online: [
      { baseUrl: 'http://10.0.0.5:3000/', monitor: false, lastUpdate: 1795411200000 },
      { baseUrl: 'http://10.0.0.6:3000/', monitor: true, lastUpdate: 1795411100000 },
    ],
  },
  ts: 1795411200456,
};

const SELF = 'http://10.0.0.6:3000/';

describe('request signatures', () => {
  it('canonical JSON sorts keys, drops undefined, keeps array order, no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 1, y: 'é' } })).toBe('{"a":[true,null,"x"],"b":1,"d":{"y":"é","z":1}}');
  });

  it('produces the worked example of docs/signing.md (cross-checked with sha256sum and openssl)', () => {
    const { secret, input, ts, nonce } = WORKED_EXAMPLE;
    // body hash: printf '%s' '<canonical body>' | sha256sum
    expect(canonicalJson(input.body)).toBe('{"message":"gossip","online":[{"baseUrl":"http://10.0.0.5:3000/","lastUpdate":1795411200000,"monitor":false}]}');
    expect(stringToSign(input, ts, nonce)).toBe(
      'SHAZBOT-HMAC-SHA256\nPOST\nhttp://10.0.0.6:3000/\n/clustershazbot/gossip\n1795411200123\nAAAAAAAAAAAAAAAAAAAAAA\ndefault\n172c509294e0b5b69c0c003fd5f3e35a946d1e8166b5b52123ed624faed93e24',
    );
    // sig: printf '<string to sign>' | openssl dgst -sha256 -hmac '<secret>' -binary | base64 (url-safe, unpadded)
    expect(signRequest(secret, input, ts, nonce)).toBe(
      'Shazbot-HMAC-SHA256 cluster=default, ts=1795411200123, nonce=AAAAAAAAAAAAAAAAAAAAAA, sig=w6LCqK7ySEIAt48vi3H_oP1Nt-h-OBBGtLTQjMhq3N8',
    );
    // the target is normalised first: the same server written another way signs the same
    expect(signRequest(secret, { ...input, target: 'HTTP://10.0.0.6:3000' }, ts, nonce)).toBe(signRequest(secret, input, ts, nonce));
  });

  it('produces the worked reply of docs/signing.md (cross-checked with sha256sum and openssl)', () => {
    const { secret, nonce } = WORKED_EXAMPLE;
    const reply = { nonce, status: 200, cluster: 'default', body: WORKED_REPLY.body };
    expect(canonicalJson(WORKED_REPLY.body)).toBe(
      '{"online":[{"baseUrl":"http://10.0.0.5:3000/","lastUpdate":1795411200000,"monitor":false},{"baseUrl":"http://10.0.0.6:3000/","lastUpdate":1795411100000,"monitor":true}]}',
    );
    expect(replyStringToSign(reply, WORKED_REPLY.ts)).toBe(
      'SHAZBOT-REPLY-HMAC-SHA256\nAAAAAAAAAAAAAAAAAAAAAA\n200\n1795411200456\ndefault\n19a4af059d5c37e22966d1e52f9a99a6b554074f40ee22d055674117a4d10fef',
    );
    expect(signReply(secret, reply, WORKED_REPLY.ts)).toBe('Shazbot-HMAC-SHA256 cluster=default, ts=1795411200456, sig=-sJvVWw1Kfcchrg7_R92KkfkDtyzqRrLuWUf6kDgbw0');
  });

  describe('verification', () => {
    const now = 1_800_000_000_000;
    const input = { method: 'POST', path: '/clustershazbot/gossip', body: { message: 'gossip', online: [] } };
    const make = (over: { startedAt?: number; maxNonces?: number } = {}) => new RequestVerifier({ cluster: 'default', baseUrl: SELF, windowMs: 600_000, now: () => now, startedAt: now - 3_600_000, ...over });
    const sign = (over: Partial<{ secret: string; ts: number; cluster: string; body: unknown; path: string; target: string }> = {}) =>
      signRequest(
        over.secret ?? 's1',
        { ...input, target: over.target ?? SELF, cluster: over.cluster ?? 'default', body: 'body' in over ? over.body : input.body, path: over.path ?? input.path },
        over.ts ?? now,
      );

    it('accepts a fresh request once, with any of the rotated secrets, and says which one signed it', () => {
      const v = make();
      expect(v.verify(sign(), ['s1', 's2'], input)).toEqual({ ok: true, cluster: 'default', nonce: expect.any(String), secretIndex: 0 });
      expect(v.verify(sign({ secret: 's2' }), ['s1', 's2'], input)).toMatchObject({ ok: true, secretIndex: 1 });
    });

    it.each([
      ['missing', () => undefined],
      ['malformed', () => 'Shazbot-HMAC-SHA256 garbage'],
      ['malformed', () => 'Bearer s1'],
      ['expired', () => sign({ ts: now - 600_001 })],
      ['future', () => sign({ ts: now + 600_001 })],
      ['bad-signature', () => sign({ secret: 'other' })],
      ['bad-signature', () => sign({ body: { message: 'gossip', online: [{ baseUrl: 'http://evil/', monitor: false, lastUpdate: 1 }] } })],
      ['bad-signature', () => sign({ path: '/clustershazbot/control' })],
      ['bad-signature', () => sign({ target: 'http://10.0.0.7:3000/' })],
      ['bad-signature', () => sign({ target: 'http://10.0.0.6:3001/' })],
      ['bad-signature', () => sign({ target: 'https://10.0.0.6:3000/' })],
      ['wrong-cluster', () => sign({ cluster: 'other' })],
    ])('refuses: %s', (reason, header) => {
      expect(make().verify(header(), ['s1'], input)).toMatchObject({ ok: false, reason });
    });

    it('refuses a request captured for one server on every other (the target is signed)', () => {
      const forA = signRequest('s1', { ...input, target: 'http://10.0.0.5:3000/', cluster: 'default' }, now);
      const verifierOf = (baseUrl: string) => new RequestVerifier({ cluster: 'default', baseUrl, windowMs: 600_000, now: () => now, startedAt: 0 });
      expect(verifierOf('http://10.0.0.5:3000').verify(forA, ['s1'], input).ok).toBe(true);
      for (const other of ['http://10.0.0.6:3000/', 'http://10.0.0.7:3000/', 'http://10.0.0.5:3000/other/']) expect(verifierOf(other).verify(forA, ['s1'], input)).toEqual({ ok: false, reason: 'bad-signature' });
    });

    it('refuses requests signed before the process started, with the signer named so the refusal can be signed', () => {
      const v = make({ startedAt: now - 4_000 });
      expect(v.verify(sign({ ts: now - 4_001 }), ['s0', 's1'], input)).toEqual({ ok: false, reason: 'before-start', cluster: 'default', nonce: expect.any(String), secretIndex: 1 });
      expect(v.verify(sign({ ts: now - 4_000 }), ['s1'], input).ok).toBe(true);
      // a wrong signature stamped before the start is just a bad signature: nothing learned
      expect(v.verify(sign({ ts: now - 5_000, secret: 'other' }), ['s1'], input)).toEqual({ ok: false, reason: 'bad-signature' });
    });

    it('a clock stepped back behind the start moves the start back with it', () => {
      let clock = now;
      const v = new RequestVerifier({ cluster: 'default', baseUrl: SELF, windowMs: 600_000, now: () => clock });
      clock = now - 60_000; // the step back
      expect(v.verify(sign({ ts: clock }), ['s1'], input).ok).toBe(true);
    });

    it('holds each nonce for one window only: the cache does not grow with the request count', () => {
      let clock = now;
      const v = new RequestVerifier({ cluster: 'default', baseUrl: SELF, windowMs: 600_000, now: () => clock, startedAt: 0 });
      for (let i = 0; i < 100; i++) {
        clock = now + i * 60_000; // one request a minute, each signed when sent
        expect(v.verify(sign({ ts: clock }), ['s1'], input).ok).toBe(true);
      }
      // the last 10 minutes' requests, the newest, and those of the bucket (1/16 window) not yet dropped
      expect(v.nonceCount).toBeLessThanOrEqual(12);
    });

    it('refuses a replay within the window', () => {
      const v = make();
      const header = sign();
      expect(v.verify(header, ['s1'], input).ok).toBe(true);
      expect(v.verify(header, ['s1'], input)).toEqual({ ok: false, reason: 'replayed' });
    });

    it('when the nonce cache is full it refuses new requests (busy) and still refuses every replay; room comes back as buckets expire', () => {
      let clock = now;
      const v = new RequestVerifier({ cluster: 'default', baseUrl: SELF, windowMs: 160_000, now: () => clock, startedAt: 0, maxNonces: 3 });
      const held = [sign({ ts: clock }), sign({ ts: clock }), sign({ ts: clock })];
      for (const h of held) expect(v.verify(h, ['s1'], input).ok).toBe(true);
      const refused = v.verify(sign({ ts: clock }), ['s1'], input);
      expect(refused).toEqual({ ok: false, reason: 'busy', retryAfterMs: expect.any(Number) });
      // room comes back when the oldest nonce's bucket ends: its window, then the rest of its bucket (160 s / 16)
      expect((refused as { retryAfterMs: number }).retryAfterMs).toBe(160_000 + 10_000);
      for (const h of held) expect(v.verify(h, ['s1'], input)).toEqual({ ok: false, reason: 'replayed' });
      clock = now + 160_000 + 10_000 + 1; // past the window and the bucket (160 s / 16)
      expect(v.verify(sign({ ts: clock }), ['s1'], input).ok).toBe(true);
      expect(v.nonceCount).toBe(1);
    });

    describe('with the bytes as received (rawBody)', () => {
      const body = { online: [{ monitor: false, baseUrl: 'http://10.0.0.5:3000/', lastUpdate: 1 }], message: 'gossip' };
      const canonical = canonicalJson(body);
      const header = () => signRequest('s1', { ...input, target: SELF, cluster: 'default', body }, now);

      it('accepts canonical text by its hash, and other JSON of the same body through the parsed body', () => {
        const v = make();
        expect(v.verify(header(), ['s1'], { ...input, body: JSON.parse(canonical), rawBody: Buffer.from(canonical) }).ok).toBe(true);
        // whitespace and another key order: the raw hash misses, the canonical JSON of the parsed body holds
        const spaced = JSON.stringify(body, null, 2);
        expect(v.verify(header(), ['s1'], { ...input, body: JSON.parse(spaced), rawBody: Buffer.from(spaced) }).ok).toBe(true);
      });

      it('refuses a body that is not the signed one, whatever its bytes, and a replay', () => {
        const v = make();
        const other = { ...body, online: [] };
        const h = header();
        expect(v.verify(h, ['s1'], { ...input, body: other, rawBody: Buffer.from(canonicalJson(other)) })).toEqual({ ok: false, reason: 'bad-signature' });
        expect(v.verify(h, ['s1'], { ...input, body: JSON.parse(canonical), rawBody: Buffer.from(canonical) }).ok).toBe(true);
        expect(v.verify(h, ['s1'], { ...input, body: JSON.parse(canonical), rawBody: Buffer.from(canonical) })).toEqual({ ok: false, reason: 'replayed' });
      });

      it('signs what it is told is the canonical text without building it again', () => {
        expect(signRequest('s1', { ...input, target: SELF, cluster: 'default', body, canonicalBody: canonical }, now, 'AAAAAAAAAAAAAAAAAAAAAA')).toBe(
          signRequest('s1', { ...input, target: SELF, cluster: 'default', body }, now, 'AAAAAAAAAAAAAAAAAAAAAA'),
        );
      });
    });
  });

  describe('reply signatures', () => {
    const nonce = 'nonce-of-the-request-0001';
    const body = { message: 'ack', ack: true, online: [{ baseUrl: 'http://10.0.0.5:3000/', monitor: false, lastUpdate: 1 }] };
    const text = canonicalJson(body);
    const header = (over: Partial<{ secret: string; nonce: string; status: number; cluster: string; body: unknown }> = {}) =>
      signReply(over.secret ?? 's1', { nonce: over.nonce ?? nonce, status: over.status ?? 200, cluster: over.cluster ?? 'default', body: 'body' in over ? over.body : body }, 1_800_000_000_000);

    it('verify the bytes as received, or the canonical JSON of the parsed body, with any accepted secret; give the cluster and the clock', () => {
      expect(verifyReply(header(), ['s0', 's1'], { nonce, status: 200, rawBody: Buffer.from(text) })).toEqual({ ok: true, cluster: 'default', ts: 1_800_000_000_000 });
      const spaced = JSON.stringify(body, null, 2);
      expect(verifyReply(header(), ['s1'], { nonce, status: 200, rawBody: Buffer.from(spaced), body: JSON.parse(spaced) }).ok).toBe(true);
      expect(verifyReply(header({ status: 401, body: undefined }), ['s1'], { nonce, status: 401 }).ok).toBe(true);
      expect(verifyReply(header({ status: 403, cluster: 'other', body: undefined }), ['s1'], { nonce, status: 403 })).toMatchObject({ ok: true, cluster: 'other' });
    });

    it.each([
      ['no header', () => undefined, {}],
      ['a request header', () => signRequest('s1', { method: 'POST', target: SELF, path: '/clustershazbot/probe', cluster: 'default', body }), {}],
      ['another secret', () => header({ secret: 'other' }), {}],
      ['another request (nonce)', () => header({ nonce: 'another-request-nonce-01' }), {}],
      ['another status', () => header(), { status: 201 }],
      ['another body', () => header(), { rawBody: Buffer.from(canonicalJson({ ...body, online: [] })), body: { ...body, online: [] } }],
      ['a tampered cluster', () => header().replace('cluster=default', 'cluster=other'), {}],
      ['a tampered clock', () => header().replace('ts=1800000000000', 'ts=1800000000001'), {}],
    ])('refuse %s', (_what, make, over) => {
      expect(verifyReply(make(), ['s1'], { nonce, status: 200, rawBody: Buffer.from(text), body, ...over })).toEqual({ ok: false });
    });
  });

  describe('the nonce cache', () => {
    it('finds a replay in the bucket of its own expiry, and forgets whole buckets once past', () => {
      const cache = new NonceCache(1000, 10);
      expect(cache.add('a', 5_500, 0)).toBe('added');
      expect(cache.add('a', 5_500, 0)).toBe('seen');
      expect(cache.add('a', 5_999, 0)).toBe('seen'); // same bucket
      expect(cache.add('a', 7_000, 0)).toBe('added'); // another time: another signed request
      expect(cache.add('a', 5_500, 5_999)).toBe('seen'); // held until its bucket ends
      expect(cache.add('b', 9_000, 6_000)).toBe('added');
      expect(cache.size).toBe(2); // 'a'@5.5 s dropped with its bucket
    });

    it('a nonce stamped far ahead does not hold up the expiry of the others', () => {
      const cache = new NonceCache(1000, 1_000_000);
      cache.add('future', 1_000_000, 0);
      for (let i = 0; i < 1000; i++) cache.add(`n${i}`, 2_000 + i, i);
      cache.add('late', 50_000, 40_000);
      expect(cache.size).toBe(2);
    });

    it('never holds more than its capacity, and says when room comes back', () => {
      const cache = new NonceCache(1000, 2);
      expect(cache.add('a', 1_500, 0)).toBe('added');
      expect(cache.add('b', 3_500, 0)).toBe('added');
      expect(cache.add('c', 3_500, 0)).toBe('full');
      expect(cache.msUntilRoom(100)).toBe(1_900);
      expect(cache.add('c', 3_500, 2_000)).toBe('added');
    });
  });

  it('signs exactly as the wire format says, checked against createHash and createHmac: any secret, method, ts, nonce and body text, non-ASCII included', () => {
    const text = fc.string({ unit: 'binary', maxLength: 3000 });
    const secret = fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.string({ unit: 'binary', minLength: 60, maxLength: 200 }));
    const nonce = fc.stringMatching(/^[A-Za-z0-9_-]{22}$/);
    const path = '/clustershazbot/gossip';
    fc.assert(
      fc.property(secret, text, fc.constantFrom('post', 'POST', 'get'), fc.nat(), nonce, (k, note, method, ts, n) => {
        const body = { message: 'gossip', online: [], note };
        // the eight lines of the header's doc (docs/signing.md), built here from their definition
        const bodyHashHex = createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');
        const lines = ['SHAZBOT-HMAC-SHA256', method.toUpperCase(), 'http://10.0.0.6:3000/', path, String(ts), n, 'default', bodyHashHex].join('\n');
        const sig = createHmac('sha256', k).update(lines, 'utf8').digest('base64url');
        expect(signRequest(k, { method, target: 'http://10.0.0.6:3000', path, cluster: 'default', body }, ts, n)).toBe(`Shazbot-HMAC-SHA256 cluster=default, ts=${ts}, nonce=${n}, sig=${sig}`);
        expect(hmacSha256(k, note).equals(createHmac('sha256', k).update(note, 'utf8').digest())).toBe(true);
      }),
      { numRuns: 1000, seed: 13 },
    );
  });
});

describe('canonical JSON, against the plain reference definition', () => {
  // the definition as first written (map, filter, join); the library's version is a faster rewrite
  const reference = (value: unknown): string => {
    if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
    if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object).filter((k) => object[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(object[k])}`).join(',')}}`;
  };
  it('agrees on any JSON value, with undefined members mixed in', () => {
    // any UTF-16 text, lone surrogates and control characters included, in keys and values
    const text = fc.string({ unit: 'binary' });
    const member = fc.oneof(fc.jsonValue(), text, fc.constant(undefined));
    const withUndefined = fc.oneof(fc.jsonValue(), text, fc.dictionary(text, member), fc.array(member), fc.dictionary(text, fc.dictionary(text, member)));
    fc.assert(fc.property(withUndefined, (value) => canonicalJson(value) === reference(value)), { numRuns: 2000, seed: 11 });
  });

  it('agrees on bodies parsed from canonical text (the native fast path), and on near misses', () => {
    const text = fc.string({ unit: 'binary' });
    const value = fc.oneof(fc.jsonValue(), fc.dictionary(text, fc.jsonValue()), fc.array(fc.dictionary(text, fc.jsonValue())));
    fc.assert(
      fc.property(value, (v) => {
        const parsed = JSON.parse(reference(v)) as unknown; // keys in canonical order, as our senders send them
        return canonicalJson(parsed) === reference(parsed);
      }),
      { numRuns: 2000, seed: 12 },
    );
    // keys out of order, integer-like keys (which objects iterate first), class instances, toJSON
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(canonicalJson({ '10': 1, '9': 2, a: 3 })).toBe('{"10":1,"9":2,"a":3}');
    expect(canonicalJson({ a: { toJSON: () => 'x' } })).toBe(reference({ a: { toJSON: () => 'x' } }));
    expect(canonicalJson(new (class { b = 1; a = 2 })())).toBe('{"a":2,"b":1}');
    expect(canonicalJson({ d: new Date(0) })).toBe('{"d":{}}');
  });
});

describe('the nesting bound checked before anything recursive touches a body', () => {
  /** `depth` levels of alternating arrays and objects around a number, built without recursion. */
  const nested = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { k: value };
    return value;
  };
  it('counts containers, not leaves: max levels pass, one more does not', () => {
    for (const max of [1, 3, MAX_JSON_DEPTH]) {
      expect(nestedDeeperThan(nested(max), max)).toBe(false);
      expect(nestedDeeperThan(nested(max + 1), max)).toBe(true);
    }
    expect(nestedDeeperThan('text', 0)).toBe(false);
    expect(nestedDeeperThan(null, 0)).toBe(false);
    expect(nestedDeeperThan([], 0)).toBe(true);
  });
  it('finds the one deep member among many shallow ones, and stops at the bound on hostile depth', () => {
    const wide = Array.from({ length: 10_000 }, () => ({ a: [1, 2], b: 'x' }));
    expect(nestedDeeperThan(wide, MAX_JSON_DEPTH)).toBe(false);
    wide.push({ a: nested(MAX_JSON_DEPTH) as number[], b: 'x' });
    expect(nestedDeeperThan(wide, MAX_JSON_DEPTH)).toBe(true);
    // far deeper than any stack allows to recurse through: answered without throwing
    expect(nestedDeeperThan(JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)), MAX_JSON_DEPTH)).toBe(true);
  });
});
