/**
 * A fast, non-cryptographic 64-bit string hash (cyrb53's mixing, both 32-bit halves kept).
 * Used only to compare views cheaply; an attacker holding the secret is trusted anyway
 * (see SECURITY.md), so collision resistance is not a goal.
 */
export function hash64(text: string, seed = 0): [number, number] {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 | 0, h2 | 0];
}

const bucketCache = new Map<string, number>();

/**
 * The digest leaf (0–4095) of a server: the top 12 bits of its URL's hash; its top 6 bits
 * are its bucket. Cached: URLs repeat.
 */
export function leafOf(baseUrl: string): number {
  let bucket = bucketCache.get(baseUrl);
  if (bucket === undefined) {
    bucket = hash64(baseUrl, 0x5eed)[0] >>> 20;
    if (bucketCache.size > 200_000) bucketCache.clear(); // bounded, whatever peers send
    bucketCache.set(baseUrl, bucket);
  }
  return bucket;
}
