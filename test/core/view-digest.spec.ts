import fc from 'fast-check';
import { hash64, leafOf } from '../../lib/core/hash.js';
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

  describe('exact wire form (the hash the docs define, computed here from hash64)', () => {
    const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
    const leafHashOf = ([h1, h2]: [number, number]) => (h1 ^ Math.imul(h2, 31)) | 0;
    const zeros = Buffer.alloc(256).toString('base64');
    /** The first stamp from 1000 whose member hash has a first half under 0x10000000 and a negative second half. */
    function stampNeedingPadding(u: string, rank: number): number {
      for (let stamp = 1000; ; stamp++) {
        const [h1, h2] = hash64(`m|${u}|${stamp}|${rank}`);
        if (h1 >>> 0 < 0x10000000 && h2 < 0) return stamp;
      }
    }

    it('an empty digest: a zero root, zero buckets and zero leaves', () => {
      const d = new ViewDigest();
      expect(d.root()).toBe('0000000000000000');
      expect(d.bucketHashes()).toBe(zeros);
      expect(d.bucketHashes()).toHaveLength(344);
      expect(d.leafHashes(0)).toBe(zeros);
      expect(d.leafHashes(63)).toBe(zeros);
    });

    it('one member: the root is its hash of "m|url|stamp|rank" in 16 hex digits, in its bucket and leaf', () => {
      const u = url(42);
      const stamp = stampNeedingPadding(u, 1);
      const h = hash64(`m|${u}|${stamp}|1`);
      const d = new ViewDigest();
      d.toggleMember(u, stamp, 1);
      const root = d.root();
      expect(root).toBe(hex8(h[0]) + hex8(h[1]));
      expect(root).toMatch(/^0[0-9a-f]{15}$/); // padded, and the negative half written unsigned
      const leaf = leafOf(u);
      const buckets = Buffer.alloc(256);
      buckets.writeInt32BE(leafHashOf(h), (leaf >>> 6) * 4);
      expect(d.bucketHashes()).toBe(buckets.toString('base64'));
      const leaves = Buffer.alloc(256);
      leaves.writeInt32BE(leafHashOf(h), (leaf & 63) * 4);
      expect(d.leafHashes(leaf >>> 6)).toBe(leaves.toString('base64'));
      for (const other of [(leaf >>> 6) + 1, (leaf >>> 6) - 1].filter((b) => b >= 0 && b < 64)) expect(d.leafHashes(other)).toBe(zeros);
    });

    it('a bucket hash covers its own 64 leaves only: a member in the first leaf of a bucket is in no other', () => {
      const u = [...Array(20000).keys()].map(url).find((x) => leafOf(x) % 64 === 0 && leafOf(x) >= 64)!;
      const h = hash64(`m|${u}|5|0`);
      const d = new ViewDigest();
      d.toggleMember(u, 5, 0);
      const buckets = Buffer.alloc(256);
      buckets.writeInt32BE(leafHashOf(h), (leafOf(u) >>> 6) * 4);
      expect(d.bucketHashes()).toBe(buckets.toString('base64'));
      expect(new ViewDigest().differingBuckets(d.bucketHashes())).toEqual([leafOf(u) >>> 6]);
    });

    it('the root covers the very last leaf (4095) too, both halves', () => {
      const u = [...Array(100000).keys()].map(url).find((x) => leafOf(x) === 4095)!;
      const h = hash64(`m|${u}|5|2`);
      const d = new ViewDigest();
      d.toggleMember(u, 5, 2);
      expect(d.root()).toBe(hex8(h[0]) + hex8(h[1]));
    });

    it('two members in one bucket: the bucket hash is the XOR of their leaf hashes; the root XORs each half', () => {
      const u1 = url(1);
      const u2 = [...Array(5000).keys()].map(url).find((u) => u !== u1 && leafOf(u) >>> 6 === leafOf(u1) >>> 6 && leafOf(u) !== leafOf(u1))!;
      const a = hash64(`m|${u1}|7|0`);
      const b = hash64(`m|${u2}|9|2`);
      const d = new ViewDigest();
      d.toggleMember(u1, 7, 0);
      d.toggleMember(u2, 9, 2);
      expect(d.root()).toBe(hex8(a[0] ^ b[0]) + hex8(a[1] ^ b[1]));
      const buckets = Buffer.alloc(256);
      buckets.writeInt32BE(leafHashOf(a) ^ leafHashOf(b), (leafOf(u1) >>> 6) * 4);
      expect(d.bucketHashes()).toBe(buckets.toString('base64'));
    });

    it('a state version is hashed as "s|url|version", in the server\'s own leaf', () => {
      const u = url(3);
      const h = hash64(`s|${u}|12`);
      const d = new ViewDigest();
      d.toggleState(u, 12);
      expect(d.root()).toBe(hex8(h[0]) + hex8(h[1]));
      const leaves = Buffer.alloc(256);
      leaves.writeInt32BE(leafHashOf(h), (leafOf(u) & 63) * 4);
      expect(d.leafHashes(leafOf(u) >>> 6)).toBe(leaves.toString('base64'));
      d.toggleState(u, 12);
      expect(d.root()).toBe('0000000000000000');
      d.toggleState(u, 1);
      expect(d.root()).toBe(hex8(hash64(`s|${u}|1`)[0]) + hex8(hash64(`s|${u}|1`)[1]));
    });

    it('a shared (frozen) entry is hashed once: later toggles with it reuse that hash', () => {
      const shared = Object.freeze({});
      const d = new ViewDigest();
      d.toggleMember(url(5), 100, 0, shared);
      // the same object with other figures: the cached hash is used, so it removes the first
      d.toggleMember(url(5), 200, 2, shared);
      expect(d.root()).toBe('0000000000000000');
      // without a shared object nothing is cached
      d.toggleMember(url(5), 100, 0);
      d.toggleMember(url(5), 200, 2);
      const [a, b] = [hash64(`m|${url(5)}|100|0`), hash64(`m|${url(5)}|200|2`)];
      expect(d.root()).toBe(hex8(a[0] ^ b[0]) + hex8(a[1] ^ b[1]));
    });

    it('differing buckets: exactly the last one, or all when the peer\'s list has another length', () => {
      const a = new ViewDigest();
      const b = new ViewDigest();
      const last = [...Array(5000).keys()].map(url).find((u) => leafOf(u) >>> 6 === 63)!;
      const first = [...Array(5000).keys()].map(url).find((u) => leafOf(u) >>> 6 === 0)!;
      b.toggleMember(last, 1, 0);
      expect(a.differingBuckets(b.bucketHashes())).toEqual([63]);
      expect(a.differingLeaves(63, b.leafHashes(63))).toEqual([leafOf(last)]);
      b.toggleMember(last, 1, 0);
      b.toggleMember(first, 1, 0);
      expect(a.differingBuckets(b.bucketHashes())).toEqual([0]);
      expect(a.differingLeaves(0, b.leafHashes(0))).toEqual([leafOf(first)]);
      const all = [...Array(64).keys()];
      expect(a.differingBuckets(Buffer.alloc(252).toString('base64'))).toEqual(all);
      expect(a.differingBuckets(Buffer.alloc(260).toString('base64'))).toEqual(all);
      expect(a.differingLeaves(2, '')).toEqual(all.map((l) => 128 + l));
      expect(a.differingBuckets(zeros)).toEqual([]);
    });
  });

  it('ranges at the edge between buckets and leaves', () => {
    expect(rangeContains(63, 63 * 64)).toBe(true);
    expect(rangeContains(63, 4095)).toBe(true);
    expect(rangeContains(63, 62 * 64 + 63)).toBe(false);
    expect(rangeContains(0, 0)).toBe(true);
    expect(rangeContains(0, 64)).toBe(false);
    expect(rangeContains(64, 0)).toBe(true);
    expect(rangeContains(64, 1)).toBe(false);
    expect(rangeContains(64 + 4095, 4095)).toBe(true);
    expect(rangeContains(64 + 4095, 4094)).toBe(false);
  });

  it('digest entries: each field at its bound', () => {
    const ok = (d: unknown[]) => expect(isDigestEntry(d)).toBe(true);
    const bad = (d: unknown) => expect(isDigestEntry(d)).toBe(false);
    ok(['x'.repeat(2048), 5, 0, 0]);
    ok(['h', 0, 0, 0]);
    ok(['h', 5, 0, 0]);
    ok(['h', 5, 1, 0]);
    ok(['h', 5, 2, 0]);
    ok(['h', Number.MAX_SAFE_INTEGER, 2, Number.MAX_SAFE_INTEGER]);
    ok(['h', 5, 0, 1]);
    bad(['h', 5, 0, -1]);
    bad(['h', 5, 0, 1.5]);
    bad(['h', 5, 0, '1']);
    bad(['h', 5, 0, 2 ** 53]);
    bad(['h', 1.5, 0, 0]);
    bad(['h', '5', 0, 0]);
    bad(['h', 2 ** 53, 0, 0]);
    bad(['h', 5, '1', 0]);
    bad(['h', 5, -1, 0]);
    bad([5, 5, 0, 0]);
    bad([['h'], 5, 0, 0]);
    bad(['h', 5, 0, 0, 0]);
    bad(['h', 5, 0]);
    bad([]);
    bad(null);
    bad('h,5,0,0');
  });
});
