import { entryCost, fromWireEntry, invalidDelta, jsonSize, keyProblem, MAX_STATE_TTL_MS, reservedKeyPath, reservedKeyProblem, resetEnvelope, slotCost, StateValueError, toWireEntry, type StateDelta, type StateEntry } from '../../lib/core/state-wire.js';

/**
 * The wire form of key/value state, function by function: what a key may be, the sizes the
 * per-server bound is kept with, a slot's conversion to and from its wire entry, and the checks
 * of a delta a peer sends (each check with the one input that fails it and its edge that passes).
 */
const LIMITS = { maxKeyLength: 8, maxValueBytes: 16, maxKeysPerServer: 2, tombstoneGraceMs: 60_000 };
const LENGTH = 'key must be a non-empty string of at most 8 characters';
const PRINTABLE = 'key must hold printable characters only (no control, format or line-separator characters)';

describe('keyProblem', () => {
  it('takes a non-empty string up to the length limit, any script and spaces included', () => {
    expect(keyProblem('x'.repeat(8), 8)).toBeNull();
    expect(keyProblem('a', 8)).toBeNull();
    expect(keyProblem('ключ да', 8)).toBeNull();
    expect(keyProblem('constructor', 16)).toBeNull();
  });

  it('names the limit for a non-string, an empty key or one over the limit', () => {
    expect(keyProblem('x'.repeat(9), 8)).toBe(LENGTH);
    expect(keyProblem('', 8)).toBe(LENGTH);
    expect(keyProblem(7, 8)).toBe(LENGTH);
    expect(keyProblem(undefined, 8)).toBe(LENGTH);
    expect(keyProblem(['abc'], 8)).toBe(LENGTH);
  });

  it('refuses controls (C0, DEL, C1), format characters, line separators and lone surrogates', () => {
    for (const bad of ['a\nb', 'a\u0000', '\u007f', 'a\u0085', 'a\u202eb', 'a\u200b', 'a\u2028', 'a\u2029', 'a\ud800', '\udc00b']) expect(keyProblem(bad, 8)).toBe(PRINTABLE);
    expect(keyProblem('a😀', 8)).toBeNull(); // a surrogate pair is one printable character
  });

  it('reserves "__proto__"', () => {
    expect(keyProblem('__proto__', 16)).toBe('key "__proto__" is reserved');
    expect(keyProblem('__proto_', 16)).toBeNull();
  });
});

describe('reservedKeyPath and reservedKeyProblem', () => {
  it('writes identifiers with a dot and anything else quoted in brackets', () => {
    expect(reservedKeyPath(JSON.parse('{"a-b":{"constructor":1}}'))).toBe('value["a-b"].constructor');
    expect(reservedKeyPath(JSON.parse('{"1a":{"constructor":1}}'))).toBe('value["1a"].constructor');
    expect(reservedKeyPath(JSON.parse('{"abc":{"$x_1":{"__proto__":1}}}'))).toBe('value.abc.$x_1.__proto__');
    expect(reservedKeyPath(JSON.parse('{"":[0,[1,{"constructor":1}]]}'))).toBe('value[""][1][1].constructor');
    expect(reservedKeyPath(null)).toBeNull();
    expect(reservedKeyPath([1, 'constructor', { prototype: { a: [] } }])).toBeNull();
  });

  it('names the key at the end of the path in its message', () => {
    expect(reservedKeyProblem('value.a["b.c"].constructor')).toBe(
      'value holds a key named "constructor" at value.a["b.c"].constructor: keys named "__proto__" or "constructor" are refused at any depth of a value, since peers\' validation (class-transformer) would drop them',
    );
    expect(reservedKeyProblem('value.__proto__')).toMatch(/^value holds a key named "__proto__" at value\.__proto__: /);
  });
});

describe('sizes', () => {
  it('entryCost: the quoted key in UTF-8 bytes, the value, and 72 bytes of fields', () => {
    expect(entryCost('k', 10)).toBe(3 + 10 + 72);
    expect(entryCost('é"', 0)).toBe(6 + 72); // "é\"" : quotes, 2 bytes of é, an escaped quote
  });

  it('resetEnvelope: the server URL in UTF-8 bytes and 103 bytes of fields (three 13-digit stamps)', () => {
    expect(resetEnvelope('http://a/')).toBe(9 + 103);
    expect(resetEnvelope('é')).toBe(2 + 103);
  });

  it('a serialised reset at 13-digit stamps fits in resetEnvelope plus its entries\' entryCost, whatever the URL', () => {
    const stamp = 9_999_999_999_999; // the largest 13-digit stamp
    for (const server of ['http://b:1/', `https://${'long-host-name.'.repeat(60)}example:65535/${'p'.repeat(200)}/`]) {
      const reset: StateDelta = { server, from: 0, to: stamp, floor: stamp, generation: stamp, entries: [] };
      // exact with no entries: the estimate is the envelope itself
      expect(Buffer.byteLength(JSON.stringify(reset))).toBe(resetEnvelope(server));
      reset.entries = [
        { key: 'k', version: stamp, value: 'v', ttlMs: MAX_STATE_TTL_MS },
        { key: 'gone', version: stamp, deleted: true, expired: true },
      ];
      expect(Buffer.byteLength(JSON.stringify(reset))).toBeLessThanOrEqual(resetEnvelope(server) + entryCost('k', 3) + entryCost('gone', 0));
    }
  });

  it('jsonSize: UTF-8 bytes of the JSON, or a StateValueError for what is not JSON', () => {
    expect(jsonSize({ a: 'é' })).toBe(10);
    expect(jsonSize(null)).toBe(4);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => jsonSize(cycle)).toThrow(StateValueError);
    expect(() => jsonSize(cycle)).toThrow(/^value is not JSON: Converting circular structure to JSON/);
    expect(() => jsonSize(1n)).toThrow(/^value is not JSON: Do not know how to serialize a BigInt$/);
    for (const none of [undefined, () => 1, Symbol('s')]) {
      const error = (() => {
        try {
          jsonSize(none);
        } catch (e) {
          return e as Error;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(StateValueError);
      expect(error?.name).toBe('StateValueError');
      expect(error?.message).toBe('value is not JSON (undefined, a function or a symbol)');
    }
  });

  it('slotCost: the entry with its value, or as the tombstone it may become', () => {
    expect(slotCost('k', { version: 1, value: 'abc' })).toBe(3 + 5 + 72);
    expect(slotCost('k', { version: 1, value: null })).toBe(3 + 4 + 72);
    expect(slotCost('k', { version: 1, deleted: 'deleted' })).toBe(3 + 72);
  });

  it('MAX_STATE_TTL_MS is the longest timer delay, 2^31 - 1 ms', () => {
    expect(MAX_STATE_TTL_MS).toBe(2_147_483_647);
  });
});

describe('toWireEntry and fromWireEntry', () => {
  const NOW = 1_000_000;

  it('writes tombstones with deleted, and expired only when an expiry made them', () => {
    expect(toWireEntry('k', { version: 5, deleted: 'expired', value: 1, expiresAt: NOW }, NOW)).toStrictEqual({ key: 'k', version: 5, deleted: true, expired: true });
    expect(toWireEntry('k', { version: 5, deleted: 'deleted', expiresAt: NOW + 10 }, NOW)).toStrictEqual({ key: 'k', version: 5, deleted: true });
  });

  it('writes a live value with the whole ms it has left, rounded up, never below 0', () => {
    expect(toWireEntry('k', { version: 5, value: { a: 1 } }, NOW)).toStrictEqual({ key: 'k', version: 5, value: { a: 1 } });
    expect(toWireEntry('k', { version: 5, value: 1, expiresAt: NOW + 1000 }, NOW)).toStrictEqual({ key: 'k', version: 5, value: 1, ttlMs: 1000 });
    expect(toWireEntry('k', { version: 5, value: 1, expiresAt: NOW + 999.2 }, NOW)).toStrictEqual({ key: 'k', version: 5, value: 1, ttlMs: 1000 });
    expect(toWireEntry('k', { version: 5, value: 1, expiresAt: NOW - 50 }, NOW)).toStrictEqual({ key: 'k', version: 5, value: 1, ttlMs: 0 });
    // expired here, the owner's tombstone not yet arrived: it travels as expired
    expect(toWireEntry('k', { version: 5, value: 1, expiredHere: true }, NOW)).toStrictEqual({ key: 'k', version: 5, value: 1, ttlMs: 0 });
  });

  it('reads tombstones with their reap time, after the grace period', () => {
    expect(fromWireEntry({ key: 'k', version: 5, deleted: true, expired: true }, NOW, 600)).toStrictEqual({ version: 5, deleted: 'expired', reapAt: NOW + 600 });
    expect(fromWireEntry({ key: 'k', version: 5, deleted: true, value: 1 }, NOW, 600)).toStrictEqual({ version: 5, deleted: 'deleted', reapAt: NOW + 600 });
  });

  it('reads a live value as a copy, with its expiry; one with no time left is expired here and reaped after the grace period', () => {
    const value = { a: [1, 2] };
    const slot = fromWireEntry({ key: 'k', version: 5, value }, NOW, 600);
    expect(slot).toStrictEqual({ version: 5, value: { a: [1, 2] } });
    expect(slot.value).not.toBe(value);
    expect(fromWireEntry({ key: 'k', version: 5 } as StateEntry, NOW, 600)).toStrictEqual({ version: 5, value: null });
    expect(fromWireEntry({ key: 'k', version: 5, value: 1, ttlMs: 1 }, NOW, 600)).toStrictEqual({ version: 5, value: 1, expiresAt: NOW + 1 });
    expect(fromWireEntry({ key: 'k', version: 5, value: 1, ttlMs: 0 }, NOW, 600)).toStrictEqual({ version: 5, value: 1, expiresAt: NOW, expiredHere: true, reapAt: NOW + 600 });
  });
});

describe('invalidDelta', () => {
  const seen: number[] = [];
  const acceptable = (v: number) => {
    seen.push(v);
    return v <= 1000;
  };
  const delta = (over: Partial<StateDelta> = {}): StateDelta => ({ server: 'http://a/', from: 10, to: 20, entries: [{ key: 'k', version: 15, value: 'v' }], ...over });
  const entry = (over: Partial<StateEntry>): StateDelta => delta({ entries: [{ key: 'k', version: 15, value: 'v', ...over }] });
  const check = (d: StateDelta) => invalidDelta(d, LIMITS, acceptable);

  it('passes a well-formed delta, at every edge of its limits', () => {
    expect(check(delta())).toBeNull();
    expect(check(delta({ from: 0, to: 0, entries: [] }))).toBeNull();
    expect(check(delta({ from: 20, to: 20, entries: [] }))).toBeNull();
    expect(check(delta({ from: 0, to: 1000, floor: 1000, entries: [] }))).toBeNull();
    expect(check(delta({ floor: 0 }))).toBeNull();
    expect(check(delta({ entries: [{ key: 'a', version: 11, value: 1 }, { key: 'b', version: 20, value: 'x'.repeat(14), ttlMs: 0 }] }))).toBeNull(); // a 16-byte value
    expect(check(entry({ ttlMs: MAX_STATE_TTL_MS }))).toBeNull();
    expect(check(entry({ value: undefined, deleted: true, expired: true }))).toBeNull();
    // a tombstone's value is not looked at
    expect(check(entry({ deleted: true, value: JSON.parse('{"__proto__":1}') }))).toBeNull();
    expect(check(entry({ deleted: true, value: 'x'.repeat(40) }))).toBeNull();
  });

  it('refuses a delta whose server, from or to is malformed, or whose to is below from', () => {
    for (const bad of [null, undefined] as unknown as StateDelta[]) expect(check(bad)).toBe('malformed delta');
    for (const over of [
      { server: 1 as unknown as string },
      { from: -1 },
      { from: 1.5 },
      { from: '1' as unknown as number },
      { from: 2 ** 53 },
      { to: -1 },
      { to: 20.5 },
      { to: Number.NaN },
      { to: '20' as unknown as number },
      { from: 21, to: 20 },
    ]) expect(check(delta(over))).toBe('malformed delta');
  });

  it('refuses a floor above to, or a malformed floor', () => {
    for (const floor of [21, -1, 1.5, Number.NaN]) expect(check(delta({ floor }))).toBe('floor above to');
  });

  it('refuses more keys than a server may hold, or no entry list', () => {
    const three = [11, 12, 13].map((version) => ({ key: `k${version}`, version, value: 1 }));
    expect(check(delta({ entries: three }))).toBe('more than 2 keys');
    expect(check(delta({ entries: 'x' as unknown as StateEntry[] }))).toBe('more than 2 keys');
  });

  it('refuses versions stamped too far ahead, asking about to', () => {
    seen.length = 0;
    expect(check(delta({ from: 0, to: 1001, entries: [] }))).toBe('versions stamped too far in the future');
    expect(seen).toEqual([1001]);
  });

  it('refuses the first bad entry, naming its key quoted', () => {
    expect(check(delta({ entries: [null as unknown as StateEntry] }))).toBe('an entry is missing');
    expect(check(entry({ key: 'a\nb' }))).toBe(PRINTABLE);
    expect(check(entry({ key: 'x'.repeat(9) }))).toBe(LENGTH);
    expect(check(entry({ key: 'a"b', version: 10 }))).toBe('key "a\\"b": version outside the delta');
    expect(check(entry({ version: 21 }))).toBe('key "k": version outside the delta');
    expect(check(entry({ version: 15.5 }))).toBe('key "k": version outside the delta');
    expect(check(entry({ version: -1 }))).toBe('key "k": version outside the delta');
    expect(check(entry({ ttlMs: -1 }))).toBe('key "k": bad ttlMs');
    expect(check(entry({ ttlMs: 0.5 }))).toBe('key "k": bad ttlMs');
    expect(check(entry({ value: undefined }))).toBe('key "k": no value');
    expect(check(entry({ value: undefined, deleted: false }))).toBe('key "k": no value');
    expect(check(entry({ value: 'x'.repeat(15) }))).toBe('key "k": value over 16 bytes');
    expect(check(entry({ value: JSON.parse('{"__proto__":1}') }))).toBe(
      'key "k": value holds a key named "__proto__" at value.__proto__: keys named "__proto__" or "constructor" are refused at any depth of a value, since peers\' validation (class-transformer) would drop them',
    );
    // a good entry first does not hide a bad one after it
    expect(check(delta({ entries: [{ key: 'a', version: 11, value: 1 }, { key: 'b', version: 9, value: 1 }] }))).toBe('key "b": version outside the delta');
  });
});
