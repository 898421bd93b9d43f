import fc from 'fast-check';
import { leafOf } from '../../lib/core/hash.js';
import { DIGEST_BUCKETS, LEAVES_PER_BUCKET, ViewDigest, isDigestEntry, rangeContains } from '../../lib/core/view-digest.js';

const url = (i: number) => `http://10.0.${i >> 8}.${i & 255}:3000/`;

describe('ViewDigest (two-level hash of a view)', () => {
  it('is order-independent: the same entries in any order give the same root', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 60 }), fc.integer(), (ids, seed) => {
        const a = new ViewDigest();
        const b = new ViewDigest();
        for (const i of ids) a.toggleMember(url(i), 1000 + i, i % 3);
        const shuffled = [...ids].sort((x, y) => ((x * 31 + seed) % 97) - ((y * 31 + seed) % 97));
        for (const i of shuffled) b.toggleMember(url(i), 1000 + i, i % 3);
        expect(a.root()).toBe(b.root());
        expect(a.bucketHashes()).toBe(b.bucketHashes());
      }),
    );
  });

  it('removing an entry (toggling it again) restores the previous root', () => {
    const d = new ViewDigest();
    d.toggleMember(url(1), 1000, 0);
    const before = d.root();
    d.toggleMember(url(2), 1001, 0);
    expect(d.root()).not.toBe(before);
    d.toggleMember(url(2), 1001, 0);
    expect(d.root()).toBe(before);
  });

  it('a different stamp, state or state version changes the root', () => {
    const base = () => {
      const d = new ViewDigest();
      d.toggleMember(url(1), 1000, 0);
      return d;
    };
    const roots = new Set([base().root()]);
    const stamp = new ViewDigest();
    stamp.toggleMember(url(1), 1001, 0);
    roots.add(stamp.root());
    const rank = new ViewDigest();
    rank.toggleMember(url(1), 1000, 2);
    roots.add(rank.root());
    const withState = base();
    withState.toggleState(url(1), 7);
    roots.add(withState.root());
    expect(roots.size).toBe(4);
    // version 0 means no state: nothing to hash
    const zero = base();
    zero.toggleState(url(1), 0);
    expect(zero.root()).toBe(base().root());
  });

  it('names exactly the differing bucket, then exactly the differing leaf', () => {
    const a = new ViewDigest();
    const b = new ViewDigest();
    for (let i = 0; i < 200; i++) {
      a.toggleMember(url(i), 1000, 0);
      b.toggleMember(url(i), 1000, 0);
    }
    b.toggleMember(url(7), 1000, 0);
    b.toggleMember(url(7), 2000, 0);
    const leaf = leafOf(url(7));
    const bucket = leaf >>> 6;
    expect(a.differingBuckets(b.bucketHashes())).toEqual([bucket]);
    expect(a.differingLeaves(bucket, b.leafHashes(bucket))).toEqual([leaf]);
    expect(a.differingBuckets(a.bucketHashes())).toEqual([]);
  });

  it('treats a malformed bucket list as every bucket differing', () => {
    const d = new ViewDigest();
    expect(d.differingBuckets('not base64 of the right length')).toHaveLength(DIGEST_BUCKETS);
  });

  it('ranges: 0–63 are buckets, 64 + leaf a single leaf', () => {
    const leaf = 5 * LEAVES_PER_BUCKET + 9;
    expect(rangeContains(5, leaf)).toBe(true);
    expect(rangeContains(6, leaf)).toBe(false);
    expect(rangeContains(DIGEST_BUCKETS + leaf, leaf)).toBe(true);
    expect(rangeContains(DIGEST_BUCKETS + leaf + 1, leaf)).toBe(false);
  });

  it('accepts only well-formed digest entries from the wire', () => {
    expect(isDigestEntry(['http://a:1/', 5, 1, 0])).toBe(true);
    expect(isDigestEntry(['http://a:1/', 5, 3, 0])).toBe(false);
    expect(isDigestEntry(['http://a:1/', -1, 0, 0])).toBe(false);
    expect(isDigestEntry(['', 5, 0, 0])).toBe(false);
    expect(isDigestEntry(['x'.repeat(2049), 5, 0, 0])).toBe(false);
    expect(isDigestEntry(['http://a:1/', 5, 0])).toBe(false);
    expect(isDigestEntry({ 0: 'http://a:1/', 1: 5, 2: 0, 3: 0, length: 4 })).toBe(false);
  });
});
