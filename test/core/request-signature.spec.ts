import fc from 'fast-check';
import { canonicalJson, MAX_JSON_DEPTH, nestedDeeperThan } from '../../lib/security/canonical-json.js';
import { createHash, createHmac } from 'node:crypto';
import { hmacSha256, RequestVerifier, signRequest, stringToSign } from '../../lib/security/request-signature.js';

/** The README's worked example: fixed inputs, the exact header another implementation must produce. */
const WORKED_EXAMPLE = {
  secret: 'correct horse battery staple',
  input: { method: 'POST', path: '/clustershazbot/gossip', cluster: 'default', body: { message: 'gossip', online: [{ baseUrl: 'http://10.0.0.5:3000/', monitor: false, lastUpdate: 1795411200000 }] } },
  ts: 1795411200123,
  nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
};

describe('request signatures', () => {
  it('canonical JSON sorts keys, drops undefined, keeps array order, no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 1, y: 'é' } })).toBe('{"a":[true,null,"x"],"b":1,"d":{"y":"é","z":1}}');
  });

  it('produces the worked example of the README (cross-checked with sha256sum and openssl)', () => {
    const { secret, input, ts, nonce } = WORKED_EXAMPLE;
    // body hash: printf '%s' '<canonical body>' | sha256sum
    expect(canonicalJson(input.body)).toBe('{"message":"gossip","online":[{"baseUrl":"http://10.0.0.5:3000/","lastUpdate":1795411200000,"monitor":false}]}');
    expect(stringToSign(input, ts, nonce)).toBe(
      'SHAZBOT-HMAC-SHA256\nPOST\n/clustershazbot/gossip\n1795411200123\nAAAAAAAAAAAAAAAAAAAAAA\ndefault\n172c509294e0b5b69c0c003fd5f3e35a946d1e8166b5b52123ed624faed93e24',
    );
    // sig: printf '<string to sign>' | openssl dgst -sha256 -hmac '<secret>' -binary | base64 (url-safe, unpadded)
    expect(signRequest(secret, input, ts, nonce)).toBe(
      'Shazbot-HMAC-SHA256 cluster=default, ts=1795411200123, nonce=AAAAAAAAAAAAAAAAAAAAAA, sig=8VVjrPnwIRqTVVOxKNEcUqlpnwiEvQ6dhzBoUdxuXaQ',
    );
  });

  describe('verification', () => {
    const now = 1_800_000_000_000;
    const input = { method: 'POST', path: '/clustershazbot/gossip', body: { message: 'gossip', online: [] } };
    const make = () => new RequestVerifier({ cluster: 'default', windowMs: 600_000, now: () => now });
    const sign = (over: Partial<{ secret: string; ts: number; cluster: string; body: unknown; path: string }> = {}) =>
      signRequest(over.secret ?? 's1', { ...input, cluster: over.cluster ?? 'default', body: 'body' in over ? over.body : input.body, path: over.path ?? input.path }, over.ts ?? now);

    it('accepts a fresh request once, with any of the rotated secrets', () => {
      const v = make();
      expect(v.verify(sign(), ['s1', 's2'], input)).toEqual({ ok: true, cluster: 'default' });
      expect(v.verify(sign({ secret: 's2' }), ['s1', 's2'], input)).toEqual({ ok: true, cluster: 'default' });
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
      ['wrong-cluster', () => sign({ cluster: 'other' })],
    ])('refuses: %s', (reason, header) => {
      expect(make().verify(header(), ['s1'], input)).toEqual({ ok: false, reason });
    });

    it('holds each nonce for one window only: the cache does not grow with the request count', () => {
      let clock = now;
      const v = new RequestVerifier({ cluster: 'default', windowMs: 600_000, now: () => clock });
      for (let i = 0; i < 100; i++) {
        clock = now + i * 60_000; // one request a minute, each signed when sent
        expect(v.verify(sign({ ts: clock }), ['s1'], input).ok).toBe(true);
      }
      expect(v.nonceCount).toBeLessThanOrEqual(11); // the last 10 minutes' requests, and the newest
    });

    it('refuses a replay within the window', () => {
      const v = make();
      const header = sign();
      expect(v.verify(header, ['s1'], input).ok).toBe(true);
      expect(v.verify(header, ['s1'], input)).toEqual({ ok: false, reason: 'replayed' });
    });

    describe('with the bytes as received (rawBody)', () => {
      const body = { online: [{ monitor: false, baseUrl: 'http://10.0.0.5:3000/', lastUpdate: 1 }], message: 'gossip' };
      const canonical = canonicalJson(body);
      const header = () => signRequest('s1', { ...input, cluster: 'default', body }, now);

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
        expect(signRequest('s1', { ...input, cluster: 'default', body, canonicalBody: canonical }, now, 'AAAAAAAAAAAAAAAAAAAAAA')).toBe(
          signRequest('s1', { ...input, cluster: 'default', body }, now, 'AAAAAAAAAAAAAAAAAAAAAA'),
        );
      });
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
        // the seven lines of the header's doc, built here from their definition
        const bodyHashHex = createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');
        const lines = ['SHAZBOT-HMAC-SHA256', method.toUpperCase(), path, String(ts), n, 'default', bodyHashHex].join('\n');
        const sig = createHmac('sha256', k).update(lines, 'utf8').digest('base64url');
        expect(signRequest(k, { method, path, cluster: 'default', body }, ts, n)).toBe(`Shazbot-HMAC-SHA256 cluster=default, ts=${ts}, nonce=${n}, sig=${sig}`);
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
