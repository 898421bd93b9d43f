import { hash64 } from './hash.js';

/**
 * Rendezvous (highest-random-weight) hashing: a key belongs to the member whose score for that
 * key is highest (Thaler and Ravishankar, "Using Name-Based Mappings to Increase Hit Rates",
 * IEEE/ACM ToN 1998). When a member leaves, only its own keys move, each to its runner-up;
 * when one joins, it takes from each member only the keys it now outscores: the minimum
 * movement, with no virtual nodes to tune and none of a ring's collisions (ringpop #241).
 *
 * Scores follow the design of facebook/mcrouter's `RendezvousHashFunc` and
 * dgryski/go-rendezvous: the key is hashed once per lookup and its hash is mixed with each
 * member's precomputed hash, instead of hashing "key + member" strings N times. Hashes are
 * 64-bit (cyrb53's mixing, the same as `hash64`): 32 bits would give a tie every ~65,000
 * member pairs per key at N = 1,000, and a non-cryptographic hash is enough here because the
 * members and keys are the application's own (SECURITY.md: a peer holding the secret is
 * trusted). Ties (probability 2^-64 per pair) go to the smaller member URL.
 */

/** Seed of the member hashes, so a member's hash is unrelated to the same text hashed as a key. */
const MEMBER_SEED = 0x2f6b_9a1d;

// The key's two 32-bit halves, written by `hashKey`: a lookup allocates nothing.
let keyHi = 0;
let keyLo = 0;
// The last score computed by `score`, as two unsigned 32-bit halves.
let scoreHi = 0;
let scoreLo = 0;

/** hash64(key) into keyHi/keyLo, without the array hash64 returns (same mixing, same result). */
function hashKey(key: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const ch = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  keyHi = h1 | 0;
  keyLo = h2 | 0;
}

/** The key hash a lookup uses, as hash64 returns it (for tests: it must equal hash64(key)). */
export function rendezvousKeyHash(key: string): [number, number] {
  hashKey(key);
  return [keyHi, keyLo];
}

/** MurmurHash3's 32-bit finaliser: a bijection in which every input bit flips each output bit with probability ~1/2. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The score of the current key (keyHi/keyLo) for a member's hash, into scoreHi/scoreLo; both halves depend on all 128 input bits. */
function score(memberHi: number, memberLo: number): void {
  const a = fmix32(keyHi ^ memberHi);
  scoreHi = fmix32(keyLo ^ memberLo ^ a);
  scoreLo = a;
}

/**
 * The members of one view with their hashes precomputed: built once per change of the member
 * set, then `owner` costs one hash of the key and N score mixes, and allocates nothing.
 * Immutable: a new view is a new table.
 */
export class RendezvousTable {
  /** The members, sorted by URL (code-unit order) and without duplicates. */
  readonly members: readonly string[];
  private readonly hi: Int32Array;
  private readonly lo: Int32Array;
  private readonly index: ReadonlyMap<string, number>;
  private fingerprint?: string;

  constructor(members: Iterable<string>) {
    const sorted = [...new Set(members)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.members = sorted;
    this.hi = new Int32Array(sorted.length);
    this.lo = new Int32Array(sorted.length);
    sorted.forEach((url, i) => {
      const [h1, h2] = hash64(url, MEMBER_SEED);
      this.hi[i] = h1;
      this.lo[i] = h2;
    });
    this.index = new Map(sorted.map((url, i) => [url, i]));
  }

  get size(): number {
    return this.members.length;
  }

  has(member: string): boolean {
    return this.index.has(member);
  }

  /**
   * A short fingerprint of the member set: 12 hex digits (48 bits) of a hash of the sorted
   * URLs. Equal on servers whose member sets are equal; different, with probability
   * 1 − 2^-48, on servers whose sets differ.
   */
  viewId(): string {
    if (this.fingerprint === undefined) {
      const [h1, h2] = hash64(this.members.join('\n'), MEMBER_SEED);
      this.fingerprint = ((h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0')).slice(0, 12);
    }
    return this.fingerprint;
  }

  /** The member with the highest score for `key`; undefined when the table is empty. Allocates nothing. */
  owner(key: string): string | undefined {
    const n = this.members.length;
    if (n === 0) return undefined;
    hashKey(key);
    const k1 = keyHi;
    const k2 = keyLo;
    const his = this.hi;
    const los = this.lo;
    let best = 0;
    let bestHi = -1;
    let bestLo = -1;
    for (let i = 0; i < n; i++) {
      // score() inlined, with locals: this loop is the whole cost of a lookup
      let a = k1 ^ his[i];
      a ^= a >>> 16;
      a = Math.imul(a, 0x85ebca6b);
      a ^= a >>> 13;
      a = Math.imul(a, 0xc2b2ae35);
      a = (a ^ (a >>> 16)) >>> 0;
      let h = k2 ^ los[i] ^ a;
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h = (h ^ (h >>> 16)) >>> 0;
      // strictly greater: on a tie the earlier (smaller) URL keeps the key
      if (h > bestHi || (h === bestHi && a > bestLo)) {
        best = i;
        bestHi = h;
        bestLo = a;
      }
    }
    return this.members[best];
  }

  /**
   * The preference list of `key`: the `n` members with the highest scores, best first (the
   * owner, then who takes the key if the owner goes, and so on: ringpop's `lookupN`). Fewer
   * when the table holds fewer; empty for n ≤ 0.
   */
  owners(key: string, n: number): string[] {
    const count = Math.min(Math.max(0, Math.floor(n)), this.members.length);
    if (count === 0) return [];
    if (count === 1) return [this.owner(key)!];
    hashKey(key);
    const ranked: { i: number; hi: number; lo: number }[] = [];
    for (let i = 0; i < this.members.length; i++) {
      score(this.hi[i], this.lo[i]);
      ranked.push({ i, hi: scoreHi, lo: scoreLo });
    }
    ranked.sort((a, b) => (a.hi !== b.hi ? b.hi - a.hi : a.lo !== b.lo ? b.lo - a.lo : a.i - b.i));
    return ranked.slice(0, count).map((r) => this.members[r.i]);
  }
}

/** The owner of `key` among `members` (builds a table: for one-off lookups and tests; keep a RendezvousTable for many). */
export function rendezvousOwner(key: string, members: Iterable<string>): string | undefined {
  return new RendezvousTable(members).owner(key);
}
