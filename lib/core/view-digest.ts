import { MAX_BASE_URL_LENGTH } from './base-url.js';
import { hash64, leafOf } from './hash.js';

/** Servers fall into 64 buckets of 64 leaves each, by URL hash (see `leafOf`). */
export const DIGEST_BUCKETS = 64;
export const LEAVES_PER_BUCKET = 64;

/**
 * One server as a digest names it: `[baseUrl, lastUpdate, rank, stateVersion]`, where rank is
 * 0 alive, 1 suspect, 2 offline (the tie-break of equal stamps) and stateVersion the newest
 * key/value version held without gaps (0 when none).
 */
export type DigestEntry = [baseUrl: string, lastUpdate: number, rank: number, stateVersion: number];

/** Whether a value from the wire is a well-formed digest entry. */
export function isDigestEntry(d: unknown): d is DigestEntry {
  return (
    Array.isArray(d) &&
    d.length === 4 &&
    typeof d[0] === 'string' &&
    d[0].length > 0 &&
    d[0].length <= MAX_BASE_URL_LENGTH &&
    Number.isSafeInteger(d[1]) &&
    d[1] >= 0 &&
    (d[2] === 0 || d[2] === 1 || d[2] === 2) &&
    Number.isSafeInteger(d[3]) &&
    d[3] >= 0
  );
}

/**
 * A digest range: 0–63 is a bucket, 64 + leaf (64–4159) a single leaf. A sync lists the
 * ranges whose entries it sends whole.
 */
export function rangeContains(range: number, leaf: number): boolean {
  return range < DIGEST_BUCKETS ? leaf >>> 6 === range : leaf === range - DIGEST_BUCKETS;
}

/**
 * An order-independent hash of a whole view, kept current in O(1) per change: the XOR of
 * one 64-bit hash per (server, stamp, rank) and per (server, state version), kept per leaf
 * (a two-level Merkle tree: root, 64 buckets, 4,096 leaves). Equal views have equal roots,
 * so a sync with nothing to do costs one small request whatever N is; otherwise only the
 * differing buckets, then leaves, are looked at.
 */
export class ViewDigest {
  private readonly leaves = new Int32Array(DIGEST_BUCKETS * LEAVES_PER_BUCKET * 2);

  /** Adds or removes (XOR is its own inverse) one membership entry. */
  toggleMember(baseUrl: string, lastUpdate: number, rank: number, shared?: object): void {
    // a simulator shares one frozen entry among thousands of views: hash it once
    let h = shared && sharedHashes.get(shared);
    if (!h) {
      h = hash64(`m|${baseUrl}|${lastUpdate}|${rank}`);
      if (shared) sharedHashes.set(shared, h);
    }
    this.toggle(baseUrl, h);
  }

  /** Adds or removes one server's state version (nothing for version 0). */
  toggleState(baseUrl: string, version: number): void {
    if (version > 0) this.toggle(baseUrl, hash64(`s|${baseUrl}|${version}`));
  }

  /** The root: 16 hex digits. */
  root(): string {
    let h1 = 0;
    let h2 = 0;
    for (let i = 0; i < this.leaves.length; i += 2) {
      h1 ^= this.leaves[i];
      h2 ^= this.leaves[i + 1];
    }
    return hex(h1) + hex(h2);
  }

  /** The 64 bucket hashes, 32 bits each, base64 (344 characters). */
  bucketHashes(): string {
    const out = Buffer.alloc(DIGEST_BUCKETS * 4);
    for (let b = 0; b < DIGEST_BUCKETS; b++) {
      let h = 0;
      for (let l = 0; l < LEAVES_PER_BUCKET; l++) h ^= this.leafHash(b * LEAVES_PER_BUCKET + l);
      out.writeInt32BE(h, b * 4);
    }
    return out.toString('base64');
  }

  /** One bucket's 64 leaf hashes, base64. */
  leafHashes(bucket: number): string {
    const out = Buffer.alloc(LEAVES_PER_BUCKET * 4);
    for (let l = 0; l < LEAVES_PER_BUCKET; l++) out.writeInt32BE(this.leafHash(bucket * LEAVES_PER_BUCKET + l), l * 4);
    return out.toString('base64');
  }

  /** Buckets whose hash differs from a peer's `bucketHashes()`; all of them when it is malformed. */
  differingBuckets(peerBucketHashes: string): number[] {
    return differing(this.bucketHashes(), peerBucketHashes);
  }

  /** Leaves (0–4095) of one bucket whose hash differs from a peer's `leafHashes(bucket)`. */
  differingLeaves(bucket: number, peerLeafHashes: string): number[] {
    return differing(this.leafHashes(bucket), peerLeafHashes).map((l) => bucket * LEAVES_PER_BUCKET + l);
  }

  private leafHash(leaf: number): number {
    return this.leaves[2 * leaf] ^ Math.imul(this.leaves[2 * leaf + 1], 31);
  }

  private toggle(baseUrl: string, [h1, h2]: [number, number]): void {
    const leaf = leafOf(baseUrl);
    this.leaves[2 * leaf] ^= h1;
    this.leaves[2 * leaf + 1] ^= h2;
  }
}

function differing(mineBase64: string, theirsBase64: string): number[] {
  const mine = Buffer.from(mineBase64, 'base64');
  const theirs = Buffer.from(theirsBase64, 'base64');
  const out: number[] = [];
  for (let i = 0; i < mine.length / 4; i++) if (theirs.length !== mine.length || mine.readInt32BE(i * 4) !== theirs.readInt32BE(i * 4)) out.push(i);
  return out;
}

const sharedHashes = new WeakMap<object, [number, number]>();

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
