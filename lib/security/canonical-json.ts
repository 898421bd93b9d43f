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

/** Deepest nesting accepted in a message; ours need 3 levels, 32 leaves room. */
export const MAX_JSON_DEPTH = 32;

/** True when `value` nests deeper than `max`. Iterative, so a hostile depth cannot overflow the stack. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
