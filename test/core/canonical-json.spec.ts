import { canonicalJson, nestedDeeperThan } from '../../lib/core/canonical-json.js';

/**
 * Canonical JSON's edges, each written out: the escapes JSON.stringify makes (and the fast path
 * for strings that need none must not skip), members and items that are not JSON, and bodies
 * parsed from canonical text (the native fast path) against ones that only look canonical.
 * The property tests against a reference definition are in request-signature.spec.ts.
 */
describe('canonicalJson', () => {
  it('escapes every character JSON.stringify escapes, in keys and values, on both paths', () => {
    // each needs an escape: the first and last control characters, a quote, a backslash, lone surrogates at both ends of the range
    const cases: [string, string][] = [
      ['\u0000', '"\\u0000"'],
      ['\u001f', '"\\u001f"'],
      ['a\nb', '"a\\nb"'],
      ['"', '"\\""'],
      ['\\', '"\\\\"'],
      ['\ud800', '"\\ud800"'],
      ['\udfff', '"\\udfff"'],
      ['x\udbff', '"x\\udbff"'],
      ['\udc00y', '"\\udc00y"'],
    ];
    for (const [text, quoted] of cases) {
      expect(canonicalJson(text)).toBe(quoted);
      // built (keys out of order), then the native path (keys in order)
      expect(canonicalJson({ z: text, [text]: 1 })).toBe(text < 'z' ? `{${quoted}:1,"z":${quoted}}` : `{"z":${quoted},${quoted}:1}`);
      expect(canonicalJson({ b: [text], a: 0 })).toBe(`{"a":0,"b":[${quoted}]}`);
    }
    // no escape: DEL, a space, a line separator, a surrogate pair
    for (const text of ['\u007f', ' ', '\u2028', '😀', 'plain']) {
      expect(canonicalJson({ b: text, a: 0 })).toBe(`{"a":0,"b":"${text}"}`);
    }
  });

  it('writes null, and what is not JSON as JSON.stringify does: null in arrays and at the top, left out as members', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson(() => 1)).toBe('null');
    expect(canonicalJson({ b: null, a: [null, undefined, () => 1, Symbol('s')] })).toBe('{"a":[null,null,null,null],"b":null}');
    expect(canonicalJson({ b: 1, a: undefined })).toBe('{"b":1}');
    expect(canonicalJson({ a: undefined })).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([1, 'a', true, false, -0.5])).toBe('[1,"a",true,false,-0.5]');
  });

  it('sorts keys at every depth, also under members and items already in order', () => {
    expect(canonicalJson({ a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1}}');
    expect(canonicalJson([{ a: 1 }, { d: 1, c: 2 }])).toBe('[{"a":1},{"c":2,"d":1}]');
    expect(canonicalJson({ a: 1, b: { a: [{ y: 1, x: 2 }] } })).toBe('{"a":1,"b":{"a":[{"x":2,"y":1}]}}');
    // a member that is not plain JSON under keys in order: built, never left to the native path
    expect(canonicalJson({ a: 1, b: new Date(0) })).toBe('{"a":1,"b":{}}');
    expect(canonicalJson({ a: 1, b: { toJSON: () => 'x' } })).toBe('{"a":1,"b":{"toJSON":null}}');
    expect(canonicalJson({ a: 1, b: [undefined] })).toBe('{"a":1,"b":[null]}');
    expect(canonicalJson(Object.assign(Object.create(null), { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
    // a class instance without own keys, alone or as an item: its own keys (none), not its toJSON
    expect(canonicalJson(new Date(0))).toBe('{}');
    expect(canonicalJson([new Date(0)])).toBe('[{}]');
    expect(canonicalJson(Object.assign(Object.create(null), { a: 2, b: { d: 1, c: 0 } }))).toBe('{"a":2,"b":{"c":0,"d":1}}');
  });
});

describe('nestedDeeperThan', () => {
  it('counts objects and arrays alike, at any position among their members', () => {
    expect(nestedDeeperThan({ a: 1, b: { c: [2] } }, 2)).toBe(true);
    expect(nestedDeeperThan({ a: 1, b: { c: [2] } }, 3)).toBe(false);
    expect(nestedDeeperThan([1, [2, [3]], 4], 2)).toBe(true);
    expect(nestedDeeperThan([1, [2, [3]], 4], 3)).toBe(false);
    expect(nestedDeeperThan({ a: null, b: 'x', c: 1 }, 1)).toBe(false);
    expect(nestedDeeperThan([null, [null]], 2)).toBe(false);
    expect(nestedDeeperThan({}, 0)).toBe(true);
    expect(nestedDeeperThan({}, 1)).toBe(false);
  });

  it('walks an array by its items only: named properties (which JSON leaves out) do not count', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const array = Object.assign([1], { extra: deep });
    expect(nestedDeeperThan(array, 32)).toBe(false);
    expect(nestedDeeperThan([1, deep], 32)).toBe(true);
  });
});
