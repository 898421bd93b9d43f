/**
 * Canonical JSON for signatures: object keys sorted by UTF-16 code units, no whitespace,
 * strings and numbers as JSON.stringify writes them, `undefined` members left out. For the
 * values our messages hold (strings, safe integers, booleans, arrays, plain objects) this is
 * the JSON Canonicalization Scheme of RFC 8785, so other implementations can reproduce it.
 */
export function canonicalJson(value: unknown): string {
  // A body parsed from canonical text (what this library sends) already has its keys in
  // order, and then canonical JSON is exactly what the native JSON.stringify writes, at a
  // third of the cost of building it here. The check only answers true when that holds.
  return inCanonicalOrder(value) ? JSON.stringify(value) : build(value);
}

/**
 * True when JSON.stringify(value) is already its canonical JSON: plain objects whose keys
 * iterate in sorted order, no `undefined`, functions, symbols, bigints or objects with their
 * own toJSON. False means "build it", never a wrong answer.
 */
function inCanonicalOrder(value: unknown): boolean {
  if (value === null) return true;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return true;
  if (type !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!inCanonicalOrder(value[i])) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const object = value as Record<string, unknown>;
  let previous: string | undefined;
  for (const key in object) {
    if (!Object.hasOwn(object, key)) return false;
    if (previous !== undefined && !(previous < key)) return false;
    if (!inCanonicalOrder(object[key])) return false;
    previous = key;
  }
  return true;
}

function build(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    // one pass, no intermediate arrays
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i) out += ',';
      out += value[i] === undefined ? 'null' : build(value[i]);
    }
    return out + ']';
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const member = object[key];
    if (member === undefined) continue;
    if (out.length > 1) out += ',';
    out += quote(key) + ':' + build(member);
  }
  return out + '}';
}

/** Characters JSON.stringify escapes (controls, quote, backslash, surrogates it checks for pairing). */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** JSON.stringify for a string, without its cost for the common string that needs no escape. */
function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** Deepest nesting accepted in a message; ours need 3 levels, 32 leaves room. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when `value` nests deeper than `max`. Recursive but never deeper than `max` calls, so a
 * hostile depth cannot overflow the stack; no allocation per object (it runs on every request).
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  return deeperThan(value, 0, max);
}

function deeperThan(value: unknown, depth: number, max: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth >= max) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (deeperThan(value[i], depth + 1, max)) return true;
    return false;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) if (deeperThan(object[key], depth + 1, max)) return true;
  return false;
}
