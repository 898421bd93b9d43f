/**
 * Replay protection across other traffic: a captured request must stay refused for as long as
 * its timestamp is inside the window, whatever else the server accepts meanwhile. The nonce
 * cache drops whole buckets as later requests arrive, so a nonce filed by its own timestamp
 * instead of the end of its window would be forgotten, and its replay accepted, as soon as any
 * other request came in after that timestamp's bucket.
 */
import { NonceCache } from '../../lib/security/nonce-cache.js';
import { RequestVerifier, signRequest } from '../../lib/security/request-signature.js';

const SELF = 'http://10.0.0.6:3000/';
const T0 = 1_800_000_000_000;
const WINDOW_MS = 600_000;
const input = { method: 'POST', path: '/clustershazbot/gossip', body: { message: 'gossip', online: [] } };
const sign = (ts: number) => signRequest('s1', { ...input, target: SELF, cluster: 'default' }, ts);

function verifier() {
  const clock = { now: T0 };
  const v = new RequestVerifier({ cluster: 'default', baseUrl: SELF, windowMs: WINDOW_MS, now: () => clock.now, startedAt: 0 });
  return { clock, verify: (header: string) => v.verify(header, ['s1'], input) };
}

describe('a replay after other traffic', () => {
  it('is refused at any time inside the window of its timestamp, however many requests came in between', () => {
    const { clock, verify } = verifier();
    const captured = sign(T0);
    expect(verify(captured)).toMatchObject({ ok: true });
    // other requests at later times, each followed by the replay
    for (const later of [1, 1000, 37_500, 37_501, 60_000, 300_000, 562_500, 599_999, 600_000]) {
      clock.now = T0 + later;
      expect({ later, other: verify(sign(clock.now)).ok }).toEqual({ later, other: true });
      expect({ later, replay: verify(captured) }).toEqual({ later, replay: { ok: false, reason: 'replayed' } });
    }
    // past the window it is too old to be considered at all
    clock.now = T0 + WINDOW_MS + 1;
    expect(verify(sign(clock.now)).ok).toBe(true);
    expect(verify(captured)).toEqual({ ok: false, reason: 'expired' });
  });

  it('a request stamped ahead of our clock is remembered until the window after its own timestamp', () => {
    const { clock, verify } = verifier();
    const ahead = sign(T0 + 200_000); // a peer whose clock runs 200 s ahead
    expect(verify(ahead)).toMatchObject({ ok: true });
    for (const later of [100_000, 600_000, 799_999, 800_000]) {
      clock.now = T0 + later;
      expect(verify(sign(clock.now)).ok).toBe(true);
      expect({ later, replay: verify(ahead) }).toEqual({ later, replay: { ok: false, reason: 'replayed' } });
    }
    clock.now = T0 + 800_001;
    expect(verify(ahead)).toEqual({ ok: false, reason: 'expired' });
  });

  it('a request stamped behind our clock is remembered until its window ends, not longer than needed', () => {
    const { clock, verify } = verifier();
    const behind = sign(T0 - 500_000);
    expect(verify(behind)).toMatchObject({ ok: true });
    clock.now = T0 + 99_999;
    expect(verify(sign(clock.now)).ok).toBe(true);
    expect(verify(behind)).toEqual({ ok: false, reason: 'replayed' });
    clock.now = T0 + 100_001;
    expect(verify(behind)).toEqual({ ok: false, reason: 'expired' });
  });
});

describe('NonceCache: held until the end of the bucket its expiry falls in', () => {
  it('keeps a nonce through traffic up to the end of its bucket, and drops it (and only it) after', () => {
    const cache = new NonceCache(1000, 100);
    expect(cache.add('a', 5_500, 0)).toBe('added');
    expect(cache.add('x', 9_000, 5_999)).toBe('added'); // traffic just before the bucket ends
    expect(cache.add('a', 5_500, 5_999)).toBe('seen');
    expect(cache.size).toBe(2);
    expect(cache.msUntilRoom(5_999)).toBe(1);
    expect(cache.add('y', 9_000, 6_000)).toBe('added'); // the bucket [5 s, 6 s) has ended
    expect(cache.size).toBe(2);
    expect(cache.add('a', 5_500, 6_000)).toBe('added'); // forgotten: a stale request only now
    // 'a' went back into a bucket that has already ended: the next call drops it again
    expect(cache.add('x', 9_000, 6_000)).toBe('seen');
    expect(cache.size).toBe(2);
    expect(cache.msUntilRoom(6_000)).toBe(4_000);
  });

  it('expires lazily: nothing is dropped before the earliest bucket ends, and then every ended bucket at once', () => {
    const cache = new NonceCache(1000, 100);
    cache.add('a', 1_000, 0);
    cache.add('b', 2_500, 0);
    cache.add('c', 3_200, 0);
    expect(cache.msUntilRoom(0)).toBe(2_000);
    cache.add('d', 10_000, 1_999);
    expect(cache.size).toBe(4);
    cache.add('e', 10_000, 3_000);
    expect(cache.size).toBe(3); // a and b gone; c (until 4 s), d and e held
    expect(cache.msUntilRoom(3_000)).toBe(1_000);
    expect(cache.add('c', 3_200, 3_999)).toBe('seen');
  });

  it('refuses a bucket width or capacity that is not positive', () => {
    expect(() => new NonceCache(0, 10)).toThrow(RangeError);
    expect(() => new NonceCache(10, 0)).toThrow('NonceCache needs a positive bucket width and capacity');
    expect(() => new NonceCache(Number.NaN, 10)).toThrow(RangeError);
    expect(new NonceCache(1, 1).capacity).toBe(1);
    expect(new NonceCache(1, 1).msUntilRoom(123)).toBe(0);
  });
});
