/**
 * Canonical JSON for signatures: object keys sorted by UTF-16 code units, no whitespace,
 * strings and numbers as JSON.stringify writes them, `undefined` members left out. For the
 * values our messages hold (strings, safe integers, booleans, arrays, plain objects) this is
 * the JSON Canonicalization Scheme of RFC 8785, so other implementations can reproduce it.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const keys = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}
